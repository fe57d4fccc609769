"""Event contracts: every payload travels in its own versioned envelope and comes back equal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.events import (
    AppealAnswered,
    AppealClosed,
    AppealCreated,
    AppealOverdue,
    Payload,
    make_event,
    parse_event,
)

MOMENT = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
FACTS = {
    "change_id": "a-1:created",
    "appeal_id": "a-1",
    "page_id": "p-1",
    "institution_id": "i-1",
    "region_code": "54",
    "kind": "appeal",
    "rubric": "roads_transport",
    "priority": "urgent",
    "received_at": MOMENT,
}


@pytest.mark.parametrize(
    "payload,event_type",
    [
        (AppealCreated(**FACTS), "appeal.created"),
        (
            AppealAnswered(
                **FACTS,
                answered_at=MOMENT,
                response_working_minutes=95,
                answered_within_sla=True,
                answer_quality_score=80,
                answer_quality_flags=("no_deadline",),
            ),
            "appeal.answered",
        ),
        (AppealOverdue(**FACTS, due_at=MOMENT), "appeal.overdue"),
        (AppealClosed(**FACTS, closed_at=MOMENT), "appeal.closed"),
    ],
)
def test_appeal_events_round_trip(payload: Payload, event_type: str) -> None:
    event = make_event("appeals", payload)
    parsed = parse_event(event.model_dump_json())
    assert parsed.type == event_type and parsed.body.payload == payload and parsed.producer == "appeals"


def test_appeal_events_carry_no_text_or_author() -> None:
    fields = set(AppealAnswered.model_fields)
    assert not fields & {"text", "author_id", "from_id", "peer_id"}
