"""ОКТМО from the registry to the municipality breakdown, the 25-item rollup transaction, hourly vs nightly runs."""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from services.metrics import bootstrap, periods, rollups, service
from services.metrics import events as worker
from services.metrics import repository as repository_module
from services.metrics.app import app
from services.registry.app import app as registry_app
from shared.config import get_settings
from shared.events import ActivityRecorded, AppealCreated, InstitutionUpserted, Payload, make_event
from shared.transactions import transact_write
from tests.factories import page_upserted
from tests.registry.helpers import drain, institution_payload
from tooling.local.lambda_runtime import LambdaContext
from tooling.local.template import Template

Header = Callable[..., dict[str, str]]
NOVOSIBIRSK = ZoneInfo("Asia/Novosibirsk")
WEEK_DAY = date(2026, 11, 18)
NOON = datetime(2026, 11, 18, 5, 0, tzinfo=UTC)  # 12:00 in Novosibirsk
# institution -> (kind, ОКТМО): two in the Iskitim district (one at settlement level), one in the city, one without
INSTITUTIONS = {
    "in-a": ("school", "50615101001"),
    "in-b": ("library", "50615000"),
    "in-c": ("school", "50701000"),
    "in-d": ("hospital", None),
}
MUNICIPALITY = {"in-a": "50615000", "in-b": "50615000", "in-c": "50701000", "in-d": "unknown"}
PAGES = {"p-a1": "in-a", "p-a2": "in-a", "p-b": "in-b", "p-c": "in-c", "p-d": "in-d"}


def _feed(payloads: list[Payload]) -> None:
    bodies = [make_event("test", payload).model_dump_json() for payload in payloads]
    for start in range(0, len(bodies), 10):
        records = [
            {"messageId": f"m{start + i}", "receiptHandle": "r", "body": body, "attributes": {}}
            for i, body in enumerate(bodies[start : start + 10])
        ]
        assert worker.handler({"Records": records}, LambdaContext(function_name="f"))["batchItemFailures"] == []


def _institution(institution_id: str, kind: str, oktmo: str | None, revision: int = 1) -> InstitutionUpserted:
    return InstitutionUpserted(
        institution_id=institution_id,
        region_code="54",
        name=f"Учреждение {institution_id}",
        kind=kind,
        level="municipal",
        spheres=("education",),
        revision=revision,
        oktmo=oktmo,
    )


def _activity(activity_id: str, page: str, kind: str, when: datetime) -> ActivityRecorded:
    return ActivityRecorded(
        activity_id=activity_id,
        page_id=page,
        group_id=1,
        institution_id=PAGES[page],
        region_code="54",
        kind=kind,  # type: ignore[arg-type]
        occurred_at=when,
    )


def _projection() -> list[Payload]:
    payloads: list[Payload] = [_institution(key, kind, oktmo) for key, (kind, oktmo) in INSTITUTIONS.items()]
    payloads += [
        page_upserted(page_id=page, institution_id=institution, group_id=number + 1, compliance_pct=50)
        for number, (page, institution) in enumerate(PAGES.items())
    ]
    return payloads


@pytest.fixture
def client(aws: Template) -> TestClient:  # noqa: ARG001 - provisions tables and env
    return TestClient(app)


def test_the_municipality_breakdown_equals_the_ground_truth_per_day_week_and_month(
    client: TestClient, auth_header: Header
) -> None:
    rng = random.Random(12)
    _feed(_projection())
    events: list[Payload] = []
    truth: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)  # (day or period label, municipality)
    for number in range(150):
        page = rng.choice(list(PAGES))
        when = NOON + timedelta(hours=rng.choice([-60, -30, 0, 20, 100]))
        day = when.astimezone(NOVOSIBIRSK).date()
        municipality = MUNICIPALITY[PAGES[page]]
        if number % 5 == 0:
            events.append(
                AppealCreated(
                    change_id=f"ap{number}:created",
                    appeal_id=f"ap{number}",
                    page_id=page,
                    institution_id=PAGES[page],
                    region_code="54",
                    kind="appeal",
                    rubric="roads",
                    received_at=when,
                )
            )
            counted = "appeals_new"
        else:
            counted = rng.choice(["post", "comment", "message"])
            events.append(_activity(f"a{number}", page, counted, when))
        for label in (day.isoformat(), periods.label("week", day), periods.label("month", day)):
            truth[(label, municipality)][counted] += 1
    _feed(events)
    _feed(events[:30])  # a redelivery counts nothing twice
    assert rollups.roll_up(repository=bootstrap.repository(), execution_id="run-1")["waiting"] == 0

    def figures(rows: list[dict[str, Any]], label: str) -> dict[str, Counter[str]]:
        names = {"posts": "post", "comments": "comment", "messages": "message", "appeals_new": "appeals_new"}
        found = {row["key"]: Counter({names[k]: row["kpis"][k] for k in names if row["kpis"][k]}) for row in rows}
        expected = {municipality: counts for (key, municipality), counts in truth.items() if key == label}
        assert found == expected, label
        return found

    headers = auth_header("operator", "54")
    for period in ("week", "month"):
        board = client.get(
            "/metrics/regions/54/dashboard", params={"period": period, "date": WEEK_DAY.isoformat()}, headers=headers
        )
        assert board.status_code == 200
        rows = board.json()["by_municipality"]
        figures(rows, periods.label(period, WEEK_DAY))
        iskitim = next(row for row in rows if row["key"] == "50615000")
        assert iskitim["institutions"] == 2  # in-a at settlement level and in-b at district level
        assert sum(row["kpis"]["posts"] for row in rows) == board.json()["kpis"]["posts"]
    days = {event.occurred_at.astimezone(NOVOSIBIRSK).date() for event in events if isinstance(event, ActivityRecorded)}
    for day in sorted(days):
        institutions = bootstrap.repository().member_rollups("54", "INST", "day", day.isoformat())
        figures([row.model_dump() for row in service.by_municipality(institutions)], day.isoformat())


def test_the_registry_publishes_the_oktmo_and_metrics_keeps_it(aws: Template, auth_header: Header) -> None:  # noqa: ARG001
    registry = TestClient(registry_app)
    admin = auth_header("regional_admin", "54")
    created = registry.post(
        "/registry/institutions", json=institution_payload("54", oktmo="50615101001"), headers=admin
    ).json()
    messages = drain(get_settings().metrics_registry_queue_url)
    upserted = [message for message in messages if message["body"]["type"] == "institution.upserted"]
    assert [message["body"]["payload"]["oktmo"] for message in upserted] == ["50615101001"]
    records = [{"messageId": "x", "body": json.dumps(message)} for message in upserted]
    assert worker.process(records) == []
    kept = bootstrap.repository().get_institution(created["id"])
    assert kept is not None and kept.oktmo == "50615101001"
    _feed([_institution(created["id"], "school", None, revision=created["revision"] + 1)])  # the code was removed
    removed = bootstrap.repository().get_institution(created["id"])
    assert removed is not None and removed.oktmo is None


def test_a_rollup_transaction_never_exceeds_25_items(aws: Template, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ARG001
    sizes: list[int] = []

    def counting(client: Any, items: list[dict[str, Any]], **kwargs: Any) -> Any:
        sizes.append(len(items))
        return transact_write(client, items, **kwargs)

    monkeypatch.setattr(repository_module, "transact_write", counting)
    _feed(_projection())
    sizes.clear()
    repository = bootstrap.repository()
    # the worst case: a synced subscriber count (page and region totals move too) on a page with a sphere
    repository.set_subscribers(page_id="p-a1", region_code="54", day=WEEK_DAY, subscribers=1200)
    _feed([_activity("w1", "p-a1", "post", NOON)])
    assert rollups.roll_up(repository=repository, execution_id="run-1")["rolled"] == 1
    assert sizes == [25]


def test_the_hourly_run_rolls_today_and_the_nightly_run_the_closed_days(
    client: TestClient, auth_header: Header
) -> None:
    _feed(_projection())
    now = datetime.now(UTC)
    today = now.astimezone(NOVOSIBIRSK).date()
    _feed([_activity("t1", "p-a1", "post", now), _activity("y1", "p-a1", "post", now - timedelta(days=2))])
    _feed([_activity("y2", "p-c", "comment", now - timedelta(days=2))])

    def handler(execution_id: str, days: str) -> dict[str, Any]:
        event = {"scheduled_time": now.isoformat(), "execution_id": execution_id, "days": days}
        result: dict[str, Any] = rollups.handler(event, LambdaContext(function_name="MetricsRollupFunction"))
        assert result["execution_id"] == execution_id
        return dict(result["result"])

    assert handler("hourly-1", "current")["rolled"] == 1
    assert handler("hourly-1", "current")["rolled"] == 1  # a retried execution returns its first summary
    assert handler("hourly-2", "current")["rolled"] == 0
    repository = bootstrap.repository()
    waiting = {(day.page_id, day.day) for day in repository.changed_days(100)}
    assert waiting == {("p-a1", today - timedelta(days=2)), ("p-c", today - timedelta(days=2))}
    assert handler("nightly-1", "closed")["rolled"] == 2
    assert handler("nightly-1", "closed") == {"rolled": 2, "waiting": 0, "raced": 0, "regions": 1}
    assert list(repository.changed_days(100)) == []
    _feed([_activity("late", "p-c", "comment", now - timedelta(days=2))])  # a late event on a closed day
    assert handler("hourly-3", "current")["rolled"] == 0
    assert handler("nightly-2", "closed")["rolled"] == 1

    span = {"from": (today - timedelta(days=2)).isoformat(), "to": today.isoformat()}
    region = client.get("/metrics/regions/54/activity", params=span, headers=auth_header("operator", "54")).json()
    assert region["totals"] == {"post": 2, "comment": 2}
