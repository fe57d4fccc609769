"""The appeal lifecycle: which action may move an appeal from which status to which.

``new`` -> ``in_progress`` -> ``interim_answer`` -> ``answered`` -> ``closed``, plus ``no_action`` (not an appeal),
``forwarded`` (routed to the responsible institution; its deadline runs on) and ``escalated_59fz`` (a formal
appeal under 59-ФЗ: it stays so until answered, through its registration and at most one extension, see
``services.appeals.workflow``). An answered appeal the citizen writes to again within ``REOPEN_DAYS`` returns to
``in_progress``. Anything else is refused with a 409 naming the current status.
"""

from __future__ import annotations

from typing import Literal, get_args

from shared.errors import ConflictError

AppealStatus = Literal[
    "new", "in_progress", "interim_answer", "answered", "closed", "no_action", "forwarded", "escalated_59fz"
]
Action = Literal["take", "interim_answer", "answer", "close", "forward", "escalate", "dismiss", "restore", "reopen"]

STATUSES: tuple[AppealStatus, ...] = get_args(AppealStatus)
OPEN_STATUSES: frozenset[AppealStatus] = frozenset(
    {"new", "in_progress", "interim_answer", "forwarded", "escalated_59fz"}
)
"""Statuses whose first-response deadline runs (the overdue check looks only at these)."""
AWAITING_FIRST_RESPONSE: frozenset[AppealStatus] = frozenset({"new", "in_progress", "forwarded", "escalated_59fz"})
REOPEN_DAYS = 7

_WORKING: frozenset[AppealStatus] = frozenset({"new", "in_progress", "forwarded"})
TRANSITIONS: dict[Action, tuple[frozenset[AppealStatus], AppealStatus]] = {
    "take": (frozenset({"new", "forwarded"}), "in_progress"),
    "interim_answer": (_WORKING, "interim_answer"),
    "answer": (OPEN_STATUSES, "answered"),
    "close": (frozenset({"answered"}), "closed"),
    "forward": (_WORKING | {"interim_answer"}, "forwarded"),
    "escalate": (_WORKING | {"interim_answer"}, "escalated_59fz"),
    "dismiss": (_WORKING, "no_action"),
    "restore": (frozenset({"no_action"}), "new"),
    "reopen": (frozenset({"answered"}), "in_progress"),
}
"""Action -> (the statuses it may start from, the status it leads to)."""


class IllegalTransitionError(ConflictError):
    """The action is not allowed from the appeal's current status (409)."""

    def __init__(self, *, current: AppealStatus, action: Action) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[action][0]))
        super().__init__(f"cannot {action.replace('_', ' ')} an appeal that is {current} (allowed from: {allowed})")
        self.current = current
        self.action = action


def next_status(*, current: AppealStatus, action: Action) -> AppealStatus:
    """The status ``action`` leads to from ``current``; ``IllegalTransitionError`` when it may not."""
    sources, target = TRANSITIONS[action]
    if current not in sources:
        raise IllegalTransitionError(current=current, action=action)
    return target


def allowed_actions(current: AppealStatus) -> list[Action]:
    """The actions open from ``current`` (what a console offers)."""
    return [action for action, (sources, _) in TRANSITIONS.items() if current in sources]
