"""Load bench of the local stack (``make bench``; a bench, not a timed test).

Starts the local stack as ``gospubliki dev`` does (free port, temporary state folder, default persistence),
projects ``--pages`` VK pages, then sends ``--comments`` comment deliveries to ``POST /vk/callback`` from
``--senders`` threads of a separate process (VK is not in the stack's process), each distinct comment delivered 1-3
times the way VK retries (same ``event_id``, ``X-Retry-Counter`` on the retries). Prints throughput, stack CPU per
delivery, acknowledgement latency, how long the appeals take to show up in ``GET /appeals``, lost and duplicated
comments, peak RSS and the stop time - next to the goals and to a baseline measured in the same run: as many bare
``SendMessage`` calls to the stack's moto server, from as many threads of the sender process.

``--import-institutions N`` then imports an N-row registry XLSX through ``POST /registry/import`` into the same
stack and prints RSS, the time of institution and page lists, and the stop time.

Run: ``.venv/bin/python bench/load.py [--comments 2000] [--senders 16] [--pages 10] [--import-institutions 5000]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import random
import resource
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REGION = "54"
FIRST_GROUP_ID = 300_000_001
PROJECTION_WAIT_SECONDS = 60.0
APPEARANCE_WAIT_SECONDS = 300.0
REQUEST_TIMEOUT_SECONDS = 30.0
GOAL_ACK_P99_MS = 1000.0
GOAL_VISIBLE_SECONDS = 60.0
GOAL_RSS_MB = 1536.0
GOAL_IMPORT_RSS_MB = 2048.0
GOAL_LIST_SECONDS = 2.0
GOAL_STOP_SECONDS = 10.0
QUESTIONS = (
    "Когда отремонтируют дорогу на улице Ленина? Ямы уже по колено.",
    "Третий день нет горячей воды в доме 12 по Красному проспекту. Куда обращаться?",
    "Почему не вывозят мусор во дворе на Садовой, 5? Контейнеры переполнены.",
    "Во дворе не горит освещение уже неделю, страшно ходить вечером.",
)


@dataclass(frozen=True)
class Page:
    """A projected VK community with its callback secret."""

    group_id: int
    secret: str


@dataclass(frozen=True)
class Delivery:
    """One POST of a comment event; ``attempt`` 0 is VK's first try, later ones carry ``X-Retry-Counter``."""

    comment: tuple[int, int]
    attempt: int
    body: bytes


@dataclass
class Sent:
    """What a sender process measured: wall seconds, latency of each call (ms), answers by status and body."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (nearest rank); 0 for no values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


# ------------------------------------------------------------ the sender process
def _run_threads(senders: int, work: list[Any], send: Callable[[Any, Any], None], client: Callable[[], Any]) -> float:
    """Hand ``work`` to ``senders`` threads calling ``send(their client, item)``; the wall time in seconds."""
    todo: queue.Queue[Any] = queue.Queue()
    for item in work:
        todo.put(item)

    def sender() -> None:
        own = client()
        while True:
            try:
                item = todo.get_nowait()
            except queue.Empty:
                return
            send(own, item)

    threads = [threading.Thread(target=sender, name=f"sender-{n}") for n in range(senders)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT_SECONDS * len(work))
    return time.perf_counter() - started


def send_deliveries(base_url: str, work: list[Delivery], senders: int) -> Sent:
    """POST every delivery to ``/vk/callback`` (in the sender process)."""
    sent = Sent()

    def send(client: httpx.Client, delivery: Delivery) -> None:
        headers = {"Content-Type": "application/json"}
        if delivery.attempt:
            headers["X-Retry-Counter"] = str(delivery.attempt)
        started = time.perf_counter()
        try:
            response = client.post("/vk/callback", content=delivery.body, headers=headers)
            sent.answers[f"{response.status_code} {response.text}"] += 1
        except httpx.HTTPError as error:
            sent.answers[type(error).__name__] += 1
        sent.latencies.append((time.perf_counter() - started) * 1000)

    sent.seconds = _run_threads(
        senders, work, send, lambda: httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS)
    )
    return sent


def send_bare_messages(queue_url: str, bodies: list[bytes], senders: int) -> Sent:
    """``SendMessage`` every body to the queue, with one boto3 client as the functions use (in the sender process)."""
    from shared.aws import sqs

    sent = Sent()

    def send(client: Any, body: bytes) -> None:
        started = time.perf_counter()
        client.send_message(QueueUrl=queue_url, MessageBody=body.decode())
        sent.answers["sent"] += 1
        sent.latencies.append((time.perf_counter() - started) * 1000)

    sqs()  # one client for all threads, created before they start
    sent.seconds = _run_threads(senders, bodies, send, sqs)
    return sent


def in_sender_process(function: Callable[..., Sent], *args: Any) -> Sent:
    """Run ``function(*args)`` in a fresh process (it inherits the stack's environment: endpoint, credentials)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as process:
        return process.submit(function, *args).result()


# ------------------------------------------------------------ the stack's side
def project_pages(stack: Any, count: int) -> list[Page]:
    """Send ``page.upserted`` events to the appeals projection and wait until it has applied them."""
    from shared.aws import sqs
    from shared.events import PageUpserted, make_event
    from shared.vk_secret import hash_secret, new_salt

    pages = [Page(group_id=FIRST_GROUP_ID + n, secret=f"load-secret-{n}") for n in range(count)]
    queue_url = stack.template.queue_urls["AppealsRegistryEventsQueue"]
    for number, page in enumerate(pages):
        salt = new_salt()
        payload = PageUpserted(
            page_id=f"load-page-{number}",
            institution_id=f"load-institution-{number % 3}",
            region_code=REGION,
            platform="vk",
            group_id=page.group_id,
            url=f"https://vk.com/club{page.group_id}",
            category="active",
            secret_salt=salt,
            secret_hash=hash_secret(page.secret, salt),
            revision=1,
        )
        sqs().send_message(QueueUrl=queue_url, MessageBody=make_event("registry", payload).model_dump_json())
    projection = next(c for c in stack.dispatcher.consumers if c.mapping.queue_id == "AppealsRegistryEventsQueue")
    deadline = time.monotonic() + PROJECTION_WAIT_SECONDS
    while projection.stats.succeeded < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"pages not projected within {PROJECTION_WAIT_SECONDS:.0f} s: {projection.stats}")
        time.sleep(0.1)
    return pages


def deliveries(pages: list[Page], total: int, rng: random.Random) -> list[Delivery]:
    """``total`` deliveries of distinct comments, each sent 1-3 times; a comment's retries come after its first try."""
    firsts: list[Delivery] = []
    retries: list[tuple[int, Delivery]] = []
    number = 0
    while len(firsts) + len(retries) < total:
        page = pages[number % len(pages)]
        comment_id = 1_000_000 + number
        envelope = {
            "type": "wall_reply_new",
            "event_id": uuid.uuid4().hex + uuid.uuid4().hex[:8],
            "v": "5.199",
            "object": {
                "id": comment_id,
                "from_id": rng.randint(10_000_000, 799_999_999),
                "post_id": 100 + rng.randrange(20),
                "owner_id": -page.group_id,
                "parents_stack": [],
                "date": int(time.time()),
                "text": rng.choice(QUESTIONS),
                "thread": {"count": 0},
                "post_owner_id": -page.group_id,
            },
            "group_id": page.group_id,
            "secret": page.secret,
        }
        body = json.dumps(envelope, ensure_ascii=False).encode()
        key = (page.group_id, comment_id)
        firsts.append(Delivery(comment=key, attempt=0, body=body))
        for attempt in range(1, min(rng.randint(1, 3), total - len(firsts) - len(retries) + 1)):
            later = number + rng.randint(1, 100) * attempt  # VK retries after a while, other events in between
            retries.append((later, Delivery(comment=key, attempt=attempt, body=body)))
        number += 1
    retries.sort(key=lambda entry: entry[0])
    ordered: list[Delivery] = []
    for position, first in enumerate(firsts):
        ordered.append(first)
        while retries and retries[0][0] <= position:
            ordered.append(retries.pop(0)[1])
    ordered.extend(delivery for _, delivery in retries)
    return ordered


def listed_appeals(base_url: str, token: str) -> Counter[tuple[int, int]]:
    """Appeals per comment (group id, comment id) as ``GET /appeals`` lists them, every page."""
    found: Counter[tuple[int, int]] = Counter()
    params: dict[str, Any] = {"region": REGION, "limit": 100}
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        for _ in range(10_000):
            response = client.get("/appeals", params=params)
            response.raise_for_status()
            page = response.json()
            for appeal in page["items"]:
                found[(appeal["source"]["group_id"], appeal["source"]["comment_id"])] += 1
            if not page["next_cursor"]:
                break
            params["cursor"] = page["next_cursor"]
    return found


@dataclass(frozen=True)
class Appearance:
    """Seconds until the appeals were listed, the process CPU time when the ingest queue ran dry, what was listed."""

    seconds: float
    drained_cpu: float
    found: Counter[tuple[int, int]]


def wait_for_appeals(stack: Any, token: str, expected: set[tuple[int, int]]) -> Appearance:
    """Wait until ``GET /appeals`` lists every expected comment (at most ``APPEARANCE_WAIT_SECONDS``).

    Listing every appeal costs the stack more than ingesting them, so it is tried once the ingest queue is empty,
    then every few seconds.
    """
    from shared.aws import sqs

    started = time.perf_counter()
    deadline = started + APPEARANCE_WAIT_SECONDS
    counts = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    queue_url = stack.template.queue_urls["IngestQueue"]
    while time.perf_counter() < deadline:
        attributes = sqs().get_queue_attributes(QueueUrl=queue_url, AttributeNames=counts)["Attributes"]
        if all(attributes[name] == "0" for name in counts):
            break
        time.sleep(0.5)
    drained_cpu = time.process_time()
    while True:
        found = listed_appeals(stack.base_url, token)
        if expected <= set(found) or time.perf_counter() > deadline:
            return Appearance(seconds=time.perf_counter() - started, drained_cpu=drained_cpu, found=found)
        time.sleep(3)


def comment_load(stack: Any, args: argparse.Namespace) -> None:
    """The comment deliveries and their baseline, with the report."""
    from shared.aws import sqs
    from tooling.local.keys import issue_token

    pages = project_pages(stack, args.pages)
    work = deliveries(pages, args.comments, random.Random(args.seed))
    comments = {delivery.comment for delivery in work}
    token = issue_token(stack.state_dir, role="regional_admin", region=REGION)

    baseline_queue = sqs().create_queue(QueueName=f"{stack.options.stack_name}-baseline")["QueueUrl"]
    cpu = time.process_time()
    base = in_sender_process(send_bare_messages, baseline_queue, [d.body for d in work], args.senders)
    base_cpu = time.process_time() - cpu
    sqs().delete_queue(QueueUrl=baseline_queue)

    cpu = time.process_time()
    load = in_sender_process(send_deliveries, stack.base_url, work, args.senders)
    appearance = wait_for_appeals(stack, token, comments)
    load_cpu = appearance.drained_cpu - cpu

    lost = len(comments - set(appearance.found))
    duplicated = sum(count - 1 for count in appearance.found.values() if count > 1)
    rate, base_rate = len(work) / load.seconds, len(work) / base.seconds
    p50, p99 = percentile(load.latencies, 0.5), percentile(load.latencies, 0.99)
    base_p50, base_p99 = percentile(base.latencies, 0.5), percentile(base.latencies, 0.99)
    rss = peak_rss_mb()
    print(f"comment load: {len(work)} deliveries of {len(comments)} distinct comments, {args.pages} pages")
    print(f"  senders            {args.senders} threads in a separate process; baseline: bare SendMessage, same")
    print(f"  answers            {dict(load.answers)}")
    print(f"  events/s           {rate:8.1f}     baseline {base_rate:8.1f}/s  ratio {rate / base_rate:.2f}x")
    print(
        f"  stack CPU/delivery {load_cpu / len(work) * 1000:8.1f} ms  baseline {base_cpu / len(work) * 1000:8.1f} ms"
        f"  ratio {load_cpu / base_cpu:.1f}x (webhook, queues, ingest, metrics: until the ingest queue ran dry)"
    )
    print(f"  ack p50            {p50:8.1f} ms  baseline {base_p50:8.1f} ms  ratio {p50 / base_p50:.1f}x")
    print(
        f"  ack p99            {p99:8.1f} ms  baseline {base_p99:8.1f} ms  ratio {p99 / base_p99:.1f}x"
        f"  goal < {GOAL_ACK_P99_MS:.0f} ms: {verdict(p99 < GOAL_ACK_P99_MS)}"
    )
    print(
        f"  appeals visible    {appearance.seconds:8.1f} s after the last ack"
        f"  goal <= {GOAL_VISIBLE_SECONDS:.0f} s: {verdict(appearance.seconds <= GOAL_VISIBLE_SECONDS)}"
    )
    print(f"  lost               {lost:8d}     goal 0: {verdict(lost == 0)}")
    print(f"  duplicated         {duplicated:8d}     goal 0: {verdict(duplicated == 0)}")
    print(f"  peak RSS           {rss:8.0f} MB  goal < {GOAL_RSS_MB:.0f} MB: {verdict(rss < GOAL_RSS_MB)}")


def registry_import(stack: Any, rows: int) -> None:
    """Import ``rows`` institutions (one VK page each) in one XLSX request, then time lists and report RSS."""
    from registry_import import multipart, workbook  # the workbook that bench imports

    from tooling.local.keys import issue_token

    token = issue_token(stack.state_dir, role="federal_admin")
    body, content_type = multipart(workbook(rows))
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=stack.base_url, headers=headers, timeout=600) as client:
        started = time.perf_counter()
        response = client.post(
            f"/registry/import?region={REGION}", content=body, headers={"Content-Type": content_type}
        )
        response.raise_for_status()
        imported = time.perf_counter() - started
        print(f"registry import: {rows} institutions with a VK page each in {imported:.1f} s")
        for path in ("/registry/institutions", "/registry/pages"):
            started = time.perf_counter()
            listed = client.get(path, params={"region": REGION, "limit": 100})
            elapsed = time.perf_counter() - started
            listed.raise_for_status()
            print(
                f"  list {path:24s} {elapsed:6.2f} s ({len(listed.json()['items'])} items)"
                f"  goal < {GOAL_LIST_SECONDS:.0f} s: {verdict(elapsed < GOAL_LIST_SECONDS)}"
            )
    rss = peak_rss_mb()
    print(
        f"  peak RSS           {rss:8.0f} MB  goal < {GOAL_IMPORT_RSS_MB:.0f} MB: {verdict(rss < GOAL_IMPORT_RSS_MB)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--comments", type=int, default=2000, help="comment deliveries to send")
    parser.add_argument("--senders", type=int, default=16, help="concurrent senders")
    parser.add_argument("--pages", type=int, default=10, help="VK pages the comments are spread over")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the event stream")
    parser.add_argument("--import-institutions", type=int, default=0, help="then import this many institutions")
    args = parser.parse_args()

    from tooling.local.stack import LocalStack, StackOptions, free_port

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(
            StackOptions(state_dir=Path(state), port=free_port(), stack_name="load", log_level="WARNING")
        )
        stack.start()
        try:
            if args.comments:
                comment_load(stack, args)
            if args.import_institutions:
                registry_import(stack, args.import_institutions)
        finally:
            started = time.perf_counter()
            stack.stop()
            stopped = time.perf_counter() - started
    print(
        f"stop                  {stopped:5.1f} s (the journal is synced; no snapshot is written)"
        f"  goal < {GOAL_STOP_SECONDS:.0f} s: {verdict(stopped < GOAL_STOP_SECONDS)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
