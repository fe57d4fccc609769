"""Classification on ingest: kinds, rubrics, urgency, no_action, re-classification of edits, answer quality."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.appeals import bootstrap
from services.appeals.app import app
from services.appeals.models import Appeal
from services.appeals.vk import stable_id
from shared.events import PageUpserted
from tests.appeals.conftest import GROUP_ID, load_event
from tests.appeals.test_ingest import stored_appeals

Deliver = Callable[..., dict[str, Any]]
NO_FAILURES = {"batchItemFailures": []}
SPAM = "Заработок от 5000 рублей в день без вложений! Пишите в личку, ссылка в профиле"
THANKS = "Огромное спасибо хирургическому отделению за маму, врачи и медсёстры просто золотые люди!"
INSULT = "Да вы там все бездельники и дармоеды, только щёки надуваете"
GAS = "Срочно! В подъезде дома 12 на улице Ленина сильно пахнет газом, аварийка не отвечает"
ROAD = "Когда отремонтируют дорогу на улице Ленина? Ямы уже по колено."
REAL_ANSWER = "Здравствуйте! Бригада выехала, ямы на улице Ленина заделают до 15 июня, работы оплачены по контракту."
FORMAL_ANSWER = "Ваше обращение передано."


@pytest.fixture(autouse=True)
def _page(vk_page: PageUpserted) -> None:
    del vk_page


def comment(comment_id: int, text: str, **fields: Any) -> dict[str, Any]:
    return load_event("wall_reply_new", id=comment_id, text=text, **fields)


def appeal_of(comment_id: int, post_id: int = 310) -> Appeal:
    [found] = [a for a in stored_appeals() if a.id == stable_id(f"wall:{-GROUP_ID}:{post_id}:{comment_id}")]
    return found


def test_non_appeals_are_kept_as_no_action_and_never_get_a_deadline(deliver: Deliver, federal: dict[str, str]) -> None:
    assert deliver(comment(1, SPAM), comment(2, THANKS), comment(3, INSULT), comment(4, ROAD)) == NO_FAILURES
    expected = {1: "spam", 2: "gratitude", 3: "abuse"}
    for comment_id, kind in expected.items():
        appeal = appeal_of(comment_id)
        assert (appeal.kind, appeal.status, appeal.rubric, appeal.due_at) == (kind, "no_action", None, None)
        assert appeal.triage is not None and appeal.triage.kind == kind and appeal.triage.classifier_version
        assert 0 < appeal.triage.confidence <= 1
        classified = appeal.history[1]
        assert classified.action == "classified" and classified.new is not None and classified.new.kind == kind
    road = appeal_of(4)
    assert (road.kind, road.rubric, road.priority, road.status) == ("appeal", "roads_transport", "normal", "new")
    client = TestClient(app)

    def listed(**params: str) -> set[str]:
        response = client.get("/appeals", params={"region": "54", **params}, headers=federal)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert len(listed()) == 4, "every kind is listed unless filtered"
    assert listed(kind="spam") == {appeal_of(1).id}
    assert listed(kind="appeal") == {road.id}
    assert listed(status="no_action") == {appeal_of(n).id for n in expected}
    assert listed(rubric="roads_transport") == {road.id}


def test_an_urgent_appeal_is_flagged_and_listed_by_priority(deliver: Deliver, federal: dict[str, str]) -> None:
    deliver(comment(5, GAS), comment(6, ROAD))
    gas = appeal_of(5)
    assert (gas.kind, gas.priority, gas.rubric, gas.status) == ("appeal", "urgent", "housing_utilities", "new")
    client = TestClient(app)
    urgent = client.get("/appeals", params={"region": "54", "priority": "urgent"}, headers=federal).json()
    assert [item["id"] for item in urgent["items"]] == [gas.id]
    normal = client.get("/appeals", params={"region": "54", "priority": "normal"}, headers=federal).json()
    assert [item["id"] for item in normal["items"]] == [appeal_of(6).id]


def test_a_message_is_classified_too(deliver: Deliver) -> None:
    envelope = load_event("message_new")
    envelope["object"]["message"]["text"] = SPAM
    deliver(envelope)
    [appeal] = stored_appeals()
    assert (appeal.source.type, appeal.kind, appeal.status) == ("message", "spam", "no_action")


def test_an_edit_reclassifies_and_the_first_classification_stays(deliver: Deliver) -> None:
    deliver(comment(7, ROAD))
    edit = load_event("wall_reply_edit", id=7, text=SPAM)
    assert deliver(edit, edit) == NO_FAILURES, "a redelivered edit has no second effect"
    appeal = appeal_of(7)
    assert (appeal.text, appeal.kind, appeal.status, appeal.rubric) == (SPAM, "spam", "no_action", None)
    actions = [entry.action for entry in appeal.history]
    assert actions == ["created", "classified", "edited", "reclassified"]
    first, again = appeal.history[1], appeal.history[3]
    assert first.new is not None and (first.new.kind, first.new.rubric) == ("appeal", "roads_transport")
    assert again.old == first.new and again.new is not None and again.new.kind == "spam"
    assert (again.old_status, again.new_status) == ("new", "no_action")
    deliver(load_event("wall_reply_edit", id=7, text=GAS))
    back = appeal_of(7)
    assert (back.kind, back.priority, back.status) == ("appeal", "urgent", "new")
    assert [entry.action for entry in back.history].count("reclassified") == 2


def test_the_ingest_worker_does_not_load_the_analyser_at_cold_start() -> None:
    code = (
        "import sys, services.appeals.ingest\n"
        "loaded = [m for m in sys.modules if m.startswith('services.appeals.triage.') or m == 'pymorphy3']\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_an_answer_is_rated_and_stored_on_the_appeal(deliver: Deliver) -> None:
    deliver(comment(312, ROAD), comment(313, ROAD.replace("Ленина", "Мира")))
    real = load_event("wall_reply_new_community", reply_to_comment=312, parents_stack=[312], text=REAL_ANSWER)
    formal = load_event("wall_reply_new_community", id=401, reply_to_comment=313, parents_stack=[313])
    formal["object"]["text"] = FORMAL_ANSWER
    assert deliver(real, formal) == NO_FAILURES
    rated, template = appeal_of(312), appeal_of(313)
    assert rated.status == "answered" and rated.answer_quality is not None
    assert template.answer_quality is not None
    assert rated.answer_quality.score > template.answer_quality.score
    assert "template_only" in template.answer_quality.flags and "no_deadline" not in rated.answer_quality.flags
    stored = bootstrap.repository().get_appeal(rated.id)
    assert stored is not None and stored["answer_quality"]["score"] == rated.answer_quality.score


def test_a_reply_after_thanks_answers_the_appeal_that_follows(deliver: Deliver) -> None:
    thanks = load_event("message_new")
    thanks["object"]["message"] |= {"text": THANKS, "conversation_message_id": 127}
    question = load_event("message_new")
    question["event_id"] = "question"
    question["object"]["message"] |= {"text": ROAD, "conversation_message_id": 128, "id": 1001}
    deliver(thanks, question)
    reply = load_event("message_reply")
    reply["object"] |= {
        "text": REAL_ANSWER,
        "date": question["object"]["message"]["date"] + 60,
        "conversation_message_id": 129,
    }
    assert deliver(reply) == NO_FAILURES
    by_number = {a.source.conversation_message_id: a for a in stored_appeals()}
    assert (by_number[127].status, by_number[127].reply) == ("no_action", None)
    assert by_number[128].status == "answered" and by_number[128].answer_quality is not None


def test_a_reply_to_a_non_appeal_is_kept_and_it_stays_no_action(deliver: Deliver) -> None:
    deliver(comment(312, THANKS))
    deliver(load_event("wall_reply_new_community", reply_to_comment=312, parents_stack=[312]))
    thanked = appeal_of(312)
    assert thanked.status == "no_action" and thanked.reply is not None and thanked.answer_quality is not None
    assert (thanked.history[-1].action, thanked.history[-1].new_status) == ("answered", "no_action")


def test_demo_traffic_shows_non_appeals_as_no_action_and_urgent_appeals_flagged(deliver: Deliver) -> None:
    from tooling.cli.demo import QUESTIONS

    expected = {
        "Бродячие собаки": ("appeal", "stray_animals", "normal"),
        "Срочно! В подъезде": ("appeal", "housing_utilities", "urgent"),
        "Третий день нет отопления": ("appeal", "housing_utilities", "urgent"),
        "Огромное спасибо": ("gratitude", None, "normal"),
        "Заработок от 5000": ("spam", None, "normal"),
        "Да вы там все": ("abuse", None, "normal"),
        "Когда отремонтируют дорогу": ("appeal", "roads_transport", "normal"),
        "Почему не вывозят мусор": ("appeal", "waste", "normal"),
        "Подскажите, как записать": ("appeal", "education", "normal"),
    }
    envelopes = [comment(2000 + number, text) for number, text in enumerate(QUESTIONS)]
    assert deliver(*envelopes) == NO_FAILURES
    by_text = {appeal.text: appeal for appeal in stored_appeals()}
    assert len(by_text) == len(QUESTIONS)
    for start, (kind, rubric, priority) in expected.items():
        [appeal] = [a for text, a in by_text.items() if text.startswith(start)]
        assert (appeal.kind, appeal.rubric, appeal.priority) == (kind, rubric, priority), start
        assert appeal.status == ("new" if kind == "appeal" else "no_action")
