"""``gospubliki demo``: replay a realistic VK event stream into the running local stack's ``/vk/callback``.

Citizens comment on the seeded demo pages' posts and write messages; the community posts, gets joins and likes,
and answers some appeals through the fake VK API (``/_local/vk``), which echoes the reply callbacks VK would send.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

from tooling.cli.errors import CliError
from tooling.local.seed import DEMO_PAGES, DEMO_REGION, DemoPage

QUESTIONS = (
    "Когда отремонтируют дорогу на улице Ленина? Ямы уже по колено.",
    "Третий день нет горячей воды в доме 12 по Красному проспекту. Куда обращаться?",
    "Подскажите, как записать ребёнка в первый класс через Госуслуги?",
    "Почему не вывозят мусор во дворе на Садовой, 5? Контейнеры переполнены.",
    "Не могу записаться к терапевту: в регистратуре никто не берёт трубку.",
    "Когда откроется каток в парке? Дети ждут.",
    "Во дворе не горит освещение уже неделю, страшно ходить вечером.",
    "Автобус 36 опять не пришёл утром, люди опаздывают на работу.",
    "Спасибо библиотеке за отличную выставку! Будет ли продолжение?",
    "Как получить компенсацию за капремонт пенсионеру старше 80 лет?",
    "Бродячие собаки стаей бегают возле школы на Кирова, кидаются на детей",
    "Срочно! В подъезде дома 12 на улице Ленина сильно пахнет газом, аварийка не отвечает",
    "Третий день нет отопления в доме 7 по Гоголя, на улице минус 30, дети мёрзнут",
    "Огромное спасибо хирургическому отделению за маму, врачи и медсёстры просто золотые люди!",
    "Заработок от 5000 рублей в день без вложений! Пишите в личку, ссылка в профиле",
    "Да вы там все бездельники и дармоеды, только щёки надуваете",
)
ANSWERS = (
    "Здравствуйте! Ваше обращение передано в профильное управление, ответ направим в течение трёх дней.",
    "Добрый день! Бригада уже выехала, работы завершат до конца недели.",
    "Спасибо за обращение! Подробная инструкция — в закреплённом посте сообщества.",
)
POSTS = (
    "График приёма граждан на следующую неделю",
    "Итоги благоустройства дворов за сентябрь",
    "Открыта запись на бесплатные курсы компьютерной грамотности для пенсионеров",
)


@dataclass
class DemoState:
    """Ids already used, so replies and likes refer to real earlier events."""

    rng: random.Random
    next_id: int = 1000
    posts: dict[int, list[int]] = field(default_factory=dict)
    comments: list[tuple[DemoPage, int, int]] = field(default_factory=list)
    dialogs: list[tuple[DemoPage, int]] = field(default_factory=list)
    conversation: dict[tuple[int, int], int] = field(default_factory=dict)

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("demo", help="replay a realistic VK event stream into the running local stack")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="base URL of the local stack")
    parser.add_argument("--count", type=int, default=30, help="number of events to send (default 30)")
    parser.add_argument("--seed", type=int, default=None, help="random seed, for a reproducible stream")
    parser.add_argument("--delay", type=float, default=0.05, help="pause between events, seconds")
    parser.set_defaults(run=run)


def _post(url: str, body: dict[str, Any]) -> tuple[int, str]:
    request = urllib.request.Request(
        url, data=json.dumps(body, ensure_ascii=False).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _envelope(page: DemoPage, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": event_type,
        "event_id": uuid.uuid4().hex + uuid.uuid4().hex[:8],
        "v": "5.199",
        "object": obj,
        "group_id": page.group_id,
        "secret": page.secret,
    }


def _community_post(state: DemoState, page: DemoPage) -> tuple[str, dict[str, Any]]:
    post_id = state.new_id()
    state.posts.setdefault(page.group_id, []).append(post_id)
    obj = {
        "id": post_id,
        "from_id": -page.group_id,
        "owner_id": -page.group_id,
        "date": int(time.time()),
        "post_type": "post",
        "text": state.rng.choice(POSTS),
    }
    return "callback", _envelope(page, "wall_post_new", obj)


def _citizen_comment(state: DemoState, page: DemoPage) -> tuple[str, dict[str, Any]]:
    post_id = state.rng.choice(state.posts.get(page.group_id) or [1])
    comment_id = state.new_id()
    state.comments.append((page, post_id, comment_id))
    obj = {
        "id": comment_id,
        "from_id": state.rng.randint(10_000_000, 799_999_999),
        "post_id": post_id,
        "owner_id": -page.group_id,
        "parents_stack": [],
        "date": int(time.time()),
        "text": state.rng.choice(QUESTIONS),
        "thread": {"count": 0},
        "post_owner_id": -page.group_id,
    }
    return "callback", _envelope(page, "wall_reply_new", obj)


def _citizen_message(state: DemoState, page: DemoPage) -> tuple[str, dict[str, Any]]:
    peer_id = state.rng.randint(10_000_000, 799_999_999)
    state.dialogs.append((page, peer_id))
    number = state.conversation.get((page.group_id, peer_id), 0) + 1
    state.conversation[(page.group_id, peer_id)] = number
    message = {
        "date": int(time.time()),
        "from_id": peer_id,
        "id": state.new_id(),
        "out": 0,
        "peer_id": peer_id,
        "text": state.rng.choice(QUESTIONS),
        "conversation_message_id": number,
        "fwd_messages": [],
        "attachments": [],
        "important": False,
        "is_hidden": False,
    }
    client_info = {"button_actions": ["text", "callback"], "keyboard": True, "inline_keyboard": True, "lang_id": 0}
    return "callback", _envelope(page, "message_new", {"message": message, "client_info": client_info})


def _community_reply(state: DemoState, page: DemoPage) -> tuple[str, dict[str, Any]]:
    """An answer through the fake VK API, which echoes the reply callback."""
    answer = state.rng.choice(ANSWERS)
    if state.comments and (not state.dialogs or state.rng.random() < 0.6):
        page, post_id, comment_id = state.comments.pop(0)
        params = {"owner_id": -page.group_id, "post_id": post_id, "from_group": page.group_id, "message": answer}
        return "method/wall.createComment", {**params, "reply_to_comment": comment_id}
    if state.dialogs:
        page, peer_id = state.dialogs.pop(0)
        params = {"group_id": page.group_id, "peer_id": peer_id, "random_id": state.new_id(), "message": answer}
        return "method/messages.send", params
    return _citizen_comment(state, page)


def _join(state: DemoState, page: DemoPage) -> tuple[str, dict[str, Any]]:
    join_type = state.rng.choice(("join", "join", "approved", "request"))
    obj = {"user_id": state.rng.randint(10_000_000, 799_999_999), "join_type": join_type}
    return "callback", _envelope(page, "group_join", obj)


def _like(state: DemoState, page: DemoPage) -> tuple[str, dict[str, Any]]:
    post_id = state.rng.choice(state.posts.get(page.group_id) or [1])
    obj = {
        "liker_id": state.rng.randint(10_000_000, 799_999_999),
        "object_type": "post",
        "object_owner_id": -page.group_id,
        "object_id": post_id,
        "thread_reply_id": 0,
        "post_id": 0,
    }
    return "callback", _envelope(page, "like_add", obj)


STEPS = (
    (_citizen_comment, 5),
    (_citizen_message, 3),
    (_community_reply, 3),
    (_community_post, 1),
    (_join, 2),
    (_like, 2),
)


def run(args: argparse.Namespace) -> int:
    base = args.url.rstrip("/")
    state = DemoState(rng=random.Random(args.seed))
    for page in DEMO_PAGES:
        _post(f"{base}/_local/vk/secrets", {"group_id": page.group_id, "secret": page.secret})
        status, _ = _post(f"{base}/_local/vk/method/groups.getById", {"group_id": page.group_id})
        if status != 200:
            raise CliError(f"gospubliki demo: no local stack with the fake VK API at {base} (HTTP {status})")
    makers = [maker for maker, _ in STEPS]
    weights = [weight for _, weight in STEPS]
    sent: dict[str, int] = {}
    for number in range(args.count):
        page = DEMO_PAGES[number % len(DEMO_PAGES)]
        maker = _community_post if page.group_id not in state.posts else state.rng.choices(makers, weights)[0]
        path, body = maker(state, page)
        if path == "callback":
            status, answer = _post(f"{base}/vk/callback", body)
            label, group_id = body["type"], body["group_id"]
        else:
            status, answer = _post(f"{base}/_local/vk/{path}", body)
            label, group_id = (
                path.removeprefix("method/") + " (echoed reply)",
                body.get("group_id", body.get("from_group")),
            )
        sent[label] = sent.get(label, 0) + 1
        print(f"{number + 1:>4}  {label:<36} group {group_id}  HTTP {status} {answer[:40]}")
        time.sleep(args.delay)
    print("\nsent: " + ", ".join(f"{label} x{count}" for label, count in sorted(sent.items())))
    print(
        "see the appeals (add --state <folder> to the token command if the stack does not use .local):\n"
        f"  TOKEN=$(.venv/bin/gospubliki token --role regional_admin --region {DEMO_REGION})\n"
        f'  curl -H "Authorization: Bearer $TOKEN" {base}/appeals'
    )
    return 0
