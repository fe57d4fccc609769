"""Every lifecycle transition, and every illegal one answering with the current status."""

from __future__ import annotations

import itertools

import pytest

from services.appeals.lifecycle import (
    STATUSES,
    TRANSITIONS,
    IllegalTransitionError,
    allowed_actions,
    next_status,
)

LEGAL = {
    ("new", "take"): "in_progress",
    ("forwarded", "take"): "in_progress",
    ("new", "interim_answer"): "interim_answer",
    ("in_progress", "interim_answer"): "interim_answer",
    ("forwarded", "interim_answer"): "interim_answer",
    ("new", "answer"): "answered",
    ("in_progress", "answer"): "answered",
    ("interim_answer", "answer"): "answered",
    ("forwarded", "answer"): "answered",
    ("escalated_59fz", "answer"): "answered",
    ("answered", "close"): "closed",
    ("new", "forward"): "forwarded",
    ("in_progress", "forward"): "forwarded",
    ("forwarded", "forward"): "forwarded",
    ("interim_answer", "forward"): "forwarded",
    ("new", "escalate"): "escalated_59fz",
    ("in_progress", "escalate"): "escalated_59fz",
    ("forwarded", "escalate"): "escalated_59fz",
    ("interim_answer", "escalate"): "escalated_59fz",
    ("new", "dismiss"): "no_action",
    ("in_progress", "dismiss"): "no_action",
    ("forwarded", "dismiss"): "no_action",
    ("no_action", "restore"): "new",
    ("answered", "reopen"): "in_progress",
}
"""Written out by hand from the lifecycle rules, not derived from the table under test."""


@pytest.mark.parametrize("status,action", list(itertools.product(STATUSES, TRANSITIONS)))
def test_each_status_and_action(status: str, action: str) -> None:
    expected = LEGAL.get((status, action))
    if expected is not None:
        assert next_status(current=status, action=action) == expected  # type: ignore[arg-type]
        assert action in allowed_actions(status)  # type: ignore[arg-type]
        return
    with pytest.raises(IllegalTransitionError) as refused:
        next_status(current=status, action=action)  # type: ignore[arg-type]
    assert refused.value.status_code == 409
    assert f"an appeal that is {status}" in refused.value.message
    assert action not in allowed_actions(status)  # type: ignore[arg-type]


def test_closed_is_final() -> None:
    assert allowed_actions("closed") == []
