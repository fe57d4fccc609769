"""Batch counting against a ground truth (with redeliveries), rollups, scores, ratings, the weekly report, marks."""

from __future__ import annotations

import io
import json
import random
import zipfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from services.metrics import bootstrap, rollups, scoring
from services.metrics import events as worker
from services.metrics.app import app
from services.registry import metrics_events as registry_worker
from services.registry.app import app as registry_app
from shared.config import get_settings
from shared.events import (
    ActivityRecorded,
    AppealAnswered,
    AppealCreated,
    AppealOverdue,
    InstitutionUpserted,
    Payload,
    make_event,
    parse_event,
)
from tests.factories import page_upserted
from tests.registry.helpers import drain, institution_payload, page_payload
from tooling.local.lambda_runtime import LambdaContext
from tooling.local.template import Template

Header = Callable[..., dict[str, str]]
EVENTS = Path(__file__).with_name("events")
WEEK_DAY = date(2026, 11, 18)  # a Wednesday of ISO week 2026-W47
NOON = datetime(2026, 11, 18, 5, 0, tzinfo=UTC)  # 12:00 in Novosibirsk
NOVOSIBIRSK = ZoneInfo("Asia/Novosibirsk")


def _batch(bodies: list[str], start: int = 0) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{start + i}",
                "receiptHandle": "r",
                "body": body,
                "attributes": {},
                "messageAttributes": {},
            }
            for i, body in enumerate(bodies)
        ]
    }


def _feed(payloads: list[Payload], *, batch_size: int = 10) -> None:
    bodies = [make_event("test", payload).model_dump_json() for payload in payloads]
    for start in range(0, len(bodies), batch_size):
        result = worker.handler(_batch(bodies[start : start + batch_size], start), LambdaContext(function_name="f"))
        assert result["batchItemFailures"] == []


def _institution(institution_id: str, kind: str = "school") -> InstitutionUpserted:
    return InstitutionUpserted(
        institution_id=institution_id,
        region_code="54",
        name=f"Учреждение {institution_id}",
        kind=kind,
        level="municipal",
        spheres=("education",),
        revision=1,
    )


def _activity(activity_id: str, page: str, kind: str, when: datetime = NOON) -> ActivityRecorded:
    return ActivityRecorded(
        activity_id=activity_id,
        page_id=page,
        group_id=1,
        institution_id="in-1",
        region_code="54",
        kind=kind,  # type: ignore[arg-type]
        occurred_at=when,
    )


def _appeal_facts(change_id: str, page: str, rubric: str = "roads") -> dict[str, Any]:
    return {
        "change_id": change_id,
        "appeal_id": change_id.split(":")[0],
        "page_id": page,
        "institution_id": "in-1",
        "region_code": "54",
        "kind": "appeal",
        "rubric": rubric,
        "received_at": NOON,
    }


@pytest.fixture
def client(aws: Template) -> TestClient:  # noqa: ARG001 - provisions tables and env
    return TestClient(app)


def test_batches_count_like_the_ground_truth_even_when_redelivered(aws: Template) -> None:  # noqa: ARG001
    rng = random.Random(7)
    pages, kinds = ["p1", "p2", "p3"], ["post", "like_add", "comment", "join", "leave", "message"]
    events = [
        _activity(f"a{i}", rng.choice(pages), rng.choice(kinds), NOON + timedelta(hours=rng.choice([0, 20, 40])))
        for i in range(120)
    ]
    truth: Counter[tuple[str, date, str]] = Counter()
    for event in events:
        truth[(event.page_id, event.occurred_at.astimezone(NOVOSIBIRSK).date(), event.kind)] += 1
    _feed([page_upserted(page_id=page, institution_id="in-1") for page in pages])
    bodies = [make_event("appeals", event).model_dump_json() for event in events]
    batches = [bodies[start : start + 10] for start in range(0, len(bodies), 10)]
    redelivered = batches + rng.sample(batches, 4) + [rng.sample(bodies, 10)]  # whole batches and a redriven mix
    rng.shuffle(redelivered)
    for index, batch in enumerate(redelivered):
        assert worker.handler(_batch(batch, index * 10), LambdaContext(function_name="f"))["batchItemFailures"] == []

    counted: Counter[tuple[str, date, str]] = Counter()
    for page in pages:
        for day in bootstrap.repository().page_days(page_id=page, first_day=WEEK_DAY, last_day=WEEK_DAY + timedelta(3)):
            for kind, number in day.counts.items():
                counted[(page, day.day, kind)] += number
    assert counted == truth


def test_a_page_score_matches_the_hand_computed_example() -> None:
    counts = {
        "post": 3,
        "like_add": 12,
        "comment": 3,
        "appeals_new": 4,
        "appeals_answered": 4,
        "appeals_in_sla": 3,
        "resp_le_60": 2,
        "resp_le_540": 1,
        "resp_le_1440": 1,
        "quality_sum": 240,
        "quality_count": 3,
    }
    score = scoring.page_score(
        counts=counts, days=7, category="active", compliance_pct=80, subscribers=1000, weights=scoring.PAGE_WEIGHTS
    )
    # compliance 0.8 x 40 = 32; posting 3 of 3 = 30; answering (0.5 x 0.75 + 0.25 x 1 + 0.25 x 0.8) x 20 = 16.5;
    # audience: no growth, 15 interactions / 3 posts = 5 of 10 -> 0.5 x 0.5 x 10 = 2.5
    assert {name: part.points for name, part in score.parts.items()} == {
        "compliance": 32.0,
        "posting": 30.0,
        "answering": 16.5,
        "audience": 2.5,
    }
    assert score.total == 81.0


def _seed_week() -> None:
    """Three pages of two institutions: p-best posts daily and answers in time, p-mid posts less, p-low is silent."""
    _feed(
        [
            _institution("in-1"),
            _institution("in-2", kind="library"),
            page_upserted(page_id="p-best", institution_id="in-1", compliance_pct=100),
            page_upserted(page_id="p-mid", institution_id="in-1", compliance_pct=60, group_id=2),
            page_upserted(page_id="p-low", institution_id="in-2", compliance_pct=20, group_id=3),
        ]
    )
    payloads: list[Payload] = []
    for day in range(3):
        payloads += [_activity(f"b{day}", "p-best", "post", NOON + timedelta(days=day - 2))]
    payloads += [_activity("m0", "p-mid", "post")]
    for number, rubric in enumerate(["roads", "roads", "housing"]):
        facts = _appeal_facts(f"ap{number}:created", "p-best", rubric)
        payloads.append(AppealCreated(**facts))
    answered = {**_appeal_facts("ap0:answered", "p-best"), "answered_at": NOON, "response_working_minutes": 30}
    payloads.append(AppealAnswered(**answered, answered_within_sla=True, answer_quality_score=90))
    overdue = {**_appeal_facts("ap1:overdue", "p-best"), "due_at": NOON + timedelta(hours=1)}
    payloads.append(AppealOverdue(**overdue))
    _feed(payloads)


def test_rollups_feed_dashboards_and_ratings_in_score_order(client: TestClient, auth_header: Header) -> None:
    _seed_week()
    summary = rollups.roll_up(repository=bootstrap.repository(), execution_id="run-1")
    assert summary["rolled"] == 4 and summary["waiting"] == 0  # p-best on 3 days, p-mid on 1
    assert rollups.roll_up(repository=bootstrap.repository(), execution_id="run-1") == summary  # same execution id
    assert rollups.roll_up(repository=bootstrap.repository(), execution_id="run-2")["rolled"] == 0  # nothing changed

    headers = auth_header("operator", "54")
    query = {"period": "week", "date": WEEK_DAY.isoformat()}
    board = client.get("/metrics/regions/54/dashboard", params=query, headers=headers).json()
    assert board["pages"] == 3 and board["institutions"] == 2 and board["coverage"] == 1.0
    assert board["kpis"]["posts"] == 4 and board["kpis"]["appeals_new"] == 3 and board["kpis"]["appeals_overdue"] == 1
    assert board["kpis"]["top_rubrics"] == [["roads", 2], ["housing", 1]]
    assert board["kpis"]["share_answered_in_sla"] == pytest.approx(1 / 3, abs=1e-3)
    assert {row["key"] for row in board["by_kind"]} == {"school"}  # the library's page had no activity
    assert board["score"]["parts"]["coverage"]["ratio"] == 1.0

    rating = client.get("/metrics/ratings", params={"region": "54", **query}, headers=headers).json()
    assert [item["id"] for item in rating["items"]] == ["p-best", "p-mid"]
    assert rating["items"][0]["score"] > rating["items"][1]["score"]
    assert set(rating["items"][0]["breakdown"]["parts"]) == {"compliance", "posting", "answering", "audience"}
    regions = client.get("/metrics/ratings", params={"level": "region", **query}, headers=headers).json()
    assert [item["id"] for item in regions["items"]] == ["54"]
    national = client.get("/metrics/national", params=query, headers=auth_header("federal_admin")).json()
    assert national["regions"][0]["region_code"] == "54" and national["regions"][0]["pages"] == 3

    page = client.get("/metrics/pages/p-best", params={"from": "2026-11-16", "to": "2026-11-22"}, headers=headers)
    assert page.status_code == 200 and page.json()["kpis"]["posts"] == 3
    assert page.json()["score"]["parts"]["compliance"]["points"] == 40.0


def test_the_weekly_report_parses_back_with_its_chart(client: TestClient, auth_header: Header) -> None:
    _seed_week()
    rollups.roll_up(repository=bootstrap.repository(), execution_id="run-1")
    headers = auth_header("regional_admin", "54")
    params = {"region": "54", "week": WEEK_DAY.isoformat()}
    report = client.get("/metrics/reports/weekly", params=params, headers=headers).json()
    assert (report["appeals_new"], report["appeals_resolved"], report["appeals_answered"]) == (3, 0, 1)
    assert [appeal["appeal_id"] for appeal in report["overdue"]] == ["ap1"]
    assert report["top_rubrics"][0] == ["roads", 2] and len(report["days"]) == 7

    xlsx = client.get("/metrics/reports/weekly", params={**params, "format": "xlsx"}, headers=headers)
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["Неделя", "Учреждения", "Просрочено"]
    rows = list(book["Неделя"].iter_rows(values_only=True))
    assert ("Новые обращения", 3, None, None) in rows and ("2026-11-18", 3, 1, 0) in rows
    assert any(name.startswith("xl/charts/chart") for name in zipfile.ZipFile(io.BytesIO(xlsx.content)).namelist())
    csv_text = client.get("/metrics/reports/weekly", params={**params, "format": "csv"}, headers=headers).text
    assert "ap1" in csv_text
    assert client.get("/metrics/reports/weekly", params=params, headers=auth_header("portal", "54")).status_code == 403


def test_quality_marks_reach_the_registry(aws: Template, auth_header: Header) -> None:  # noqa: ARG001
    registry = TestClient(registry_app)
    admin = auth_header("regional_admin", "54")
    institution = registry.post("/registry/institutions", json=institution_payload("54"), headers=admin).json()
    page = registry.post(f"/registry/institutions/{institution['id']}/pages", json=page_payload(), headers=admin).json()
    _feed([page_upserted(page_id=page["id"], institution_id=institution["id"], compliance_pct=90)])
    _feed([_activity("q1", page["id"], "post")])
    rollups.roll_up(repository=bootstrap.repository(), execution_id="run-1")

    metrics = TestClient(app)
    body = {"region_code": "54", "year": 2026, "top_percent": 5}
    assert (
        metrics.post("/metrics/quality-marks/award", json=body, headers=auth_header("operator", "54")).status_code
        == 403
    )
    awarded = metrics.post("/metrics/quality-marks/award", json=body, headers=admin)
    assert awarded.status_code == 200 and [item["page_id"] for item in awarded.json()["items"]] == [page["id"]]
    listed = metrics.get("/metrics/quality-marks", params={"region": "54", "year": 2026}, headers=admin).json()
    assert listed["items"] == awarded.json()["items"]
    both = metrics.post("/metrics/quality-marks/award", json={**body, "min_score": 1}, headers=admin)
    assert both.status_code == 422

    messages = drain(get_settings().registry_metrics_queue_url)
    assert [message["body"]["type"] for message in messages] == ["quality_mark.awarded"]
    bodies = [json.dumps(message) for message in messages] * 2  # a redelivery changes nothing more
    assert registry_worker.handler(_batch(bodies), LambdaContext(function_name="f"))["batchItemFailures"] == []
    stored = registry.get(f"/registry/pages/{page['id']}", headers=admin).json()
    assert stored["quality_marks"] == [2026] and stored["revision"] == page["revision"] + 1


def test_event_fixtures_are_the_contracts() -> None:
    for path in sorted(EVENTS.glob("*.json")):
        assert parse_event(path.read_text()).type == path.name.removesuffix(".json")
