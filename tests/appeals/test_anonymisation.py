"""Anonymisation after the retention period: nothing that identifies the citizen stays, a dialog's peer id included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.appeals import bootstrap, retention
from services.appeals.vk import stable_id
from tests.appeals.conftest import GROUP_ID, load_event
from tests.appeals.test_workflow import Deliver, Header, _page, _run, act, get  # noqa: F401 (the page fixture)

PEER = 499047616


def test_a_closed_dialog_keeps_no_trace_of_the_citizen(deliver: Deliver, auth_header: Header) -> None:
    deliver(load_event("message_new"))
    deliver(load_event("message_reply"))
    appeal = stable_id(f"message:{GROUP_ID}:{PEER}:127")
    operator = auth_header("operator", "54")
    answered = get(appeal, operator)
    assert answered["status"] == "answered" and answered["source"]["peer_id"] == PEER and answered["reply"]["text"]
    act(appeal, operator, action="close")
    repository = bootstrap.repository()
    thread = f"message:{GROUP_ID}:{PEER}"
    assert repository.previous_in_thread(thread=thread, before=2**40), "the dialog's entry is there before"

    assert _run(retention.handler, datetime.now(UTC) + timedelta(days=366))["result"] == {"anonymised": 1}
    blanked = get(appeal, operator)
    assert (blanked["text"], blanked["author_id"], blanked["reply"]["text"]) == ("", 0, "")
    assert blanked["source"].get("peer_id") is None and blanked["source"]["type"] == "message"
    assert blanked["status"] == "closed" and blanked["kind"] == "appeal", "labels and figures stay"
    assert repository.previous_in_thread(thread=thread, before=2**40) == [], "the entry keyed by the peer id is gone"
    stored = repository.get_appeal(appeal)
    assert stored is not None and str(PEER) not in repr(stored), "the VK id is nowhere in the stored appeal"
    assert _run(retention.handler, datetime.now(UTC) + timedelta(days=400))["result"] == {"anonymised": 0}
