"""Benchmark: metrics at regional scale on the local stack (in-process: requests counted with a botocore hook).

Seeds one region with PAGES pages x DAYS days of counters (written directly, 25 items a request: the seed is not
what is measured) plus their week rollups and scores and the week rollups of PAGES / 2 institutions in 40
municipalities, then prints:

- DynamoDB requests per dashboard call and per page-rating call (they read precomputed rollups, so neither grows
  with the number of pages);
- the rollup's time and requests per changed page-day (a sample of pages counted through the real worker);
- events/s through the metrics worker and DynamoDB writes per activity event at batch size 10.

Run: ``.venv/bin/python bench/metrics.py [PAGES] [DAYS]`` (default 5000 x 30).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REGION = "54"
ROLLUP_SAMPLE = 200
EVENTS = 2000
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})


class Requests:
    """DynamoDB requests (by operation) and written items made by this process's client."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.writes = 0

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:  # provide-client-params: API params
        self.calls[model.name] += 1
        if model.name in WRITES:
            self.writes += 1
        elif model.name == "TransactWriteItems":
            self.writes += len(params["TransactItems"])
        elif model.name == "BatchWriteItem":
            self.writes += sum(len(items) for items in params["RequestItems"].values())

    def reset(self) -> None:
        self.calls.clear()
        self.writes = 0

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def seed(pages: int, days: int, today: datetime) -> None:
    """Projection, daily counters, week rollups and scores of ``pages`` pages, written 25 items a request."""
    from services.metrics import bootstrap, periods
    from shared.dynamo import chunked, serialize

    repository = bootstrap.repository()
    rng = random.Random(1)
    week = periods.label("week", today.date())
    items: list[dict[str, Any]] = []
    for n in range(pages):
        page = f"bench-{n}"
        items.append(
            {
                "PK": f"PAGE#{page}",
                "SK": "META",
                "page_id": page,
                "institution_id": f"inst-{n // 2}",
                "region_code": REGION,
                "status": "active",
                "revision": 1,
                "category": "active",
                "compliance_pct": 70,
            }
        )
        for offset in range(days):
            day = (today - timedelta(days=offset)).date().isoformat()
            counts = {"post": rng.randint(0, 3), "like_add": rng.randint(0, 40), "comment": rng.randint(0, 5)}
            items.append(
                {"PK": f"PAGE#{page}", "SK": f"DAY#{day}", "day": day, "version": 1, "rolled": counts, **counts}
            )
        score = rng.uniform(20, 95)
        items.append(
            {
                "PK": f"PAGE#{page}",
                "SK": f"WEEK#{week}",
                "period": week,
                "region_code": REGION,
                "post": 5,
                "score": round(score, 1),
                "page_id": page,
                "GSI2PK": f"RATING#PAGE#{REGION}#WEEK#{week}",
                "GSI2SK": f"{round(score * 10):04d}#{page}",
                "breakdown": {"total": round(score, 1), "parts": {}},
            }
        )
    for n in range(pages // 2):  # each institution's week rollup, carrying its municipality (40 of them)
        institution = f"inst-{n}"
        counts = {"post": rng.randint(0, 10), "comment": rng.randint(0, 20), "appeals_new": rng.randint(0, 5)}
        items.append(
            {
                "PK": f"REGION#{REGION}#INST",
                "SK": f"WEEK#{week}#{institution}",
                "period": week,
                "region_code": REGION,
                "member": institution,
                "name": f"Учреждение {n}",
                "municipality": f"50{600 + n % 40:03d}000",
                **counts,
            }
        )
    items.append(
        {"PK": f"REGION#{REGION}", "SK": "META", "pages": pages, "institutions": pages // 2, "covered": pages // 2}
    )
    items.append({"PK": f"REGION#{REGION}", "SK": f"WEEK#{week}", "period": week, "post": pages * 5})
    for chunk in chunked(items, 25):
        pending: Any = {repository.table: [{"PutRequest": {"Item": serialize(item)}} for item in chunk]}
        while pending:
            pending = repository.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or None


def main() -> None:
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    days = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from fastapi.testclient import TestClient

    from services.metrics import bootstrap, rollups
    from services.metrics import events as worker
    from services.metrics.app import app
    from shared.events import ActivityRecorded, make_event
    from tooling.local import keys
    from tooling.local.lambda_runtime import LambdaContext
    from tooling.local.stack import LocalStack, StackOptions, free_port

    stack = LocalStack(
        StackOptions(
            state_dir=Path(tempfile.mkdtemp(prefix="bench-metrics-")),
            port=free_port(),
            stack_name=f"bench{uuid.uuid4().hex[:6]}",
            run_schedules=False,
            dispatch=False,
            snapshot_every_seconds=3600,
        )
    )
    stack.start()
    try:
        requests = Requests()
        bootstrap.repository().client.meta.events.register("provide-client-params.dynamodb", requests)
        today = datetime.now(UTC)
        started = time.perf_counter()
        seed(pages, days, today)
        print(f"seeded {pages} pages x {days} days in {time.perf_counter() - started:.0f} s")

        token = keys.issue_token(stack.state_dir, role="regional_admin", region=REGION)
        client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
        for name, path, params in [
            ("dashboard", f"/metrics/regions/{REGION}/dashboard", {"period": "week"}),
            ("page rating (top 100)", "/metrics/ratings", {"region": REGION, "period": "week"}),
            ("page rating (all)", "/metrics/ratings", {"region": REGION, "period": "week", "limit": 1000}),
            ("region rating", "/metrics/ratings", {"level": "region", "period": "week"}),
        ]:
            requests.reset()
            response = client.get(path, params=params)
            assert response.status_code == 200, response.text
            print(f"{name}: {requests.total} DynamoDB requests ({dict(requests.calls)})")

        def activity(n: int, page: int) -> str:
            payload = ActivityRecorded(
                activity_id=f"bench-{uuid.uuid4().hex}",
                page_id=f"bench-{page}",
                group_id=1,
                institution_id=f"inst-{page // 2}",
                region_code=REGION,
                kind="like_add" if n % 4 else "post",
                occurred_at=today,
            )
            return make_event("bench", payload).model_dump_json()

        def batch(bodies: list[str]) -> dict[str, Any]:
            return {
                "Records": [{"messageId": str(i), "receiptHandle": "r", "body": body} for i, body in enumerate(bodies)]
            }

        # a page's events arrive together (VK sends a community's events to one callback, in order)
        bodies = [activity(n, n // 10 % ROLLUP_SAMPLE) for n in range(EVENTS)]
        requests.reset()
        started = time.perf_counter()
        for start in range(0, len(bodies), 10):
            assert (
                worker.handler(batch(bodies[start : start + 10]), LambdaContext(function_name="f"))["batchItemFailures"]
                == []
            )
        elapsed = time.perf_counter() - started
        print(
            f"counting: {EVENTS / elapsed:.0f} events/s, {requests.writes / EVENTS:.2f} DynamoDB writes per event, "
            f"{requests.total / EVENTS:.2f} requests per event (batch size 10)"
        )

        requests.reset()
        started = time.perf_counter()
        summary = rollups.roll_up(repository=bootstrap.repository(), execution_id=uuid.uuid4().hex)
        elapsed = time.perf_counter() - started
        changed = summary["rolled"] or 1
        print(
            f"rollup: {summary['rolled']} changed page-days in {elapsed:.1f} s = {elapsed / changed * 1000:.0f} ms and "
            f"{requests.total / changed:.1f} requests ({requests.writes / changed:.1f} written items) "
            "per changed page-day"
        )
    finally:
        stack.stop(save=False)


if __name__ == "__main__":
    main()
