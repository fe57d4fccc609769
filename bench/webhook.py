"""Webhook benchmark (``make bench``; not a timed test).

1. Warm CPU per callback event (``time.process_time``) through the webhook's Mangum ``handler`` with AWS stubbed
   (botocore ``Stubber`` on a real SQS client; page lookup answered from the warm cache), next to a bare
   FastAPI + Mangum handler doing one stubbed ``SendMessage``, same run, as a ratio (goal <= 2x).
2. Billable AWS requests per citizen comment from webhook to stored appeal, counted with botocore ``before-call``
   hooks on ``shared.aws.dynamodb()`` and ``shared.aws.sqs()`` against a real moto server.

Run: ``.venv/bin/python bench/webhook.py`` (under a minute). Cold start is ``bench/cold_start.py``'s job.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from unittest import mock

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from mangum import Mangum

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIXTURE = json.loads((ROOT / "tests" / "appeals" / "events" / "wall_reply_new.json").read_text(encoding="utf-8"))
SECRET = "s3cr3t"
QUEUE_URL = "https://sqs.eu-central-1.amazonaws.com/123456789012/bench-ingest"
WARM_EVENTS = 2000
ROUNDS = 5


def _env() -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": "eu-central-1",
            "AWS_DEFAULT_REGION": "eu-central-1",
            "GOSPUBLIKI_INGEST_QUEUE_URL": QUEUE_URL,
            "GOSPUBLIKI_CACHE_TTL_SECONDS": "3600",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )


def http_event(body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload v2) event for ``POST /vk/callback``."""
    return {
        "version": "2.0",
        "routeKey": "POST /vk/callback",
        "rawPath": "/vk/callback",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "api.example", **(headers or {})},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "api.example",
            "http": {"method": "POST", "path": "/vk/callback", "protocol": "HTTP/1.1", "sourceIp": "95.142.192.1"},
            "requestId": uuid.uuid4().hex,
            "routeKey": "POST /vk/callback",
            "stage": "$default",
            "time": "22/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1795000000000,
        },
        "body": json.dumps(body, ensure_ascii=False),
        "isBase64Encoded": False,
    }


def bare_webhook(client: Any, queue_url: str = QUEUE_URL) -> Any:
    """The baseline: a bare FastAPI + Mangum handler that sends the body to SQS and answers ``ok``."""
    bare = FastAPI()

    @bare.post("/vk/callback")
    async def callback(request: Request) -> PlainTextResponse:
        client.send_message(QueueUrl=queue_url, MessageBody=(await request.body()).decode())
        return PlainTextResponse("ok")

    return Mangum(bare, lifespan="off")


def warm_cpu() -> tuple[float, float]:
    """CPU microseconds per event: (webhook handler, bare FastAPI + Mangum + one SendMessage)."""
    import boto3
    from botocore.stub import Stubber

    from services.appeals import webhook
    from services.appeals.repository import AppealsRepository, PageRef
    from shared import wiring
    from shared.vk_secret import hash_secret, new_salt
    from tooling.local.lambda_runtime import LambdaContext

    client = boto3.client("sqs", region_name="eu-central-1")
    stubber = Stubber(client)
    for _ in range((WARM_EVENTS + 200) * ROUNDS * 2):
        stubber.add_response("send_message", {"MessageId": "m", "MD5OfMessageBody": "0" * 32})
    stubber.activate()
    salt = new_salt()
    page = PageRef(
        page_id="p",
        institution_id="i",
        region_code="54",
        group_id=FIXTURE["group_id"],
        status="active",
        revision=1,
        secret_salt=salt,
        secret_hash=hash_secret(SECRET, salt),
        confirmation_code="code",
    )
    bare_handler = bare_webhook(client)
    event = http_event(FIXTURE, {"x-retry-counter": "0"})
    context = LambdaContext(function_name="VkCallbackFunction")

    def per_event(handler: Any) -> float:
        for _ in range(200):
            response = handler(event, context)
        assert response["statusCode"] == 200 and response["body"] == "ok", response
        started = time.process_time()
        for _ in range(WARM_EVENTS):
            handler(event, context)
        return (time.process_time() - started) / WARM_EVENTS * 1e6

    ours, baseline = [], []
    with (
        mock.patch.object(AppealsRepository, "read_page_by_group", lambda self, group_id: page),  # the cache's source
        mock.patch.object(webhook, "sqs", lambda: client),
    ):
        for _ in range(ROUNDS):  # interleaved, so both see the same machine state
            ours.append(per_event(webhook.handler))
            baseline.append(per_event(bare_handler))
    wiring.reset()
    return statistics.median(ours), statistics.median(baseline)


def ack_latency(queue_url: str, events: int = 400) -> dict[str, list[float]]:
    """Wall-clock milliseconds to acknowledge one event with the SQS send going to moto over HTTP (warm)."""
    from services.appeals import webhook
    from shared.aws import sqs
    from tooling.local.lambda_runtime import LambdaContext

    handlers = {"webhook": webhook.handler, "bare": bare_webhook(sqs(), queue_url)}
    context = LambdaContext(function_name="VkCallbackFunction")
    samples: dict[str, list[float]] = {name: [] for name in handlers}
    for number in range(events):
        for name, handler in handlers.items():  # interleaved, so both see the same moto and machine state
            body = {**FIXTURE, "event_id": uuid.uuid4().hex, "object": {**FIXTURE["object"], "id": 90000 + number}}
            started = time.perf_counter()
            response = handler(http_event(body), context)
            samples[name].append((time.perf_counter() - started) * 1000)
            assert response["body"] == "ok", response
    return samples


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def requests_per_comment(comments: int = 20) -> tuple[dict[str, Counter[str]], dict[str, list[float]]]:
    """AWS operations per phase for ``comments`` citizen comments, cold and warm caches (moto over HTTP),
    and the acknowledgement latency of the webhook next to the bare baseline on the same moto."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request access log

    from services.appeals import ingest, projection, webhook
    from shared import wiring
    from shared.aws import dynamodb, sqs
    from shared.events import PageUpserted, make_event
    from shared.vk_secret import hash_secret, new_salt
    from tooling.local.lambda_runtime import LambdaContext, sqs_event
    from tooling.local.stack import LOCAL_REGION, free_port
    from tooling.local.state import provision
    from tooling.local.template import load_template

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        os.environ["GOSPUBLIKI_AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
        wiring.reset()
        template = load_template(stack_name="bench", region=LOCAL_REGION, parameters={"JwksUrl": ""})
        provision(template)
        os.environ.update(template.environment())
        wiring.reset()
        salt = new_salt()
        page = PageUpserted(
            page_id="p",
            institution_id="i",
            region_code="54",
            platform="vk",
            group_id=FIXTURE["group_id"],
            url="https://vk.com/club1",
            category="active",
            secret_salt=salt,
            secret_hash=hash_secret(SECRET, salt),
            revision=1,
        )
        projection.on_page_upserted(make_event("registry", page))

        phase = {"name": "setup"}
        counts: dict[str, Counter[str]] = {}

        def count(model: Any, **_: Any) -> None:
            counts.setdefault(phase["name"], Counter())[f"{model.service_model.service_name}:{model.name}"] += 1

        def new_process() -> None:
            """Forget every cached dependency (clients, page cache), as a new Lambda process, and count its calls."""
            wiring.reset()
            for client in (dynamodb(), sqs()):
                client.meta.events.register("before-call", count)

        context = LambdaContext(function_name="bench")
        queue_url = template.queue_urls["IngestQueue"]

        def run(label: str, n: int) -> None:
            phase["name"] = f"{label}: webhook"
            for number in range(n):
                body = {**FIXTURE, "event_id": uuid.uuid4().hex, "object": {**FIXTURE["object"], "id": 5000 + number}}
                assert webhook.handler(http_event(body), context)["body"] == "ok"
            phase["name"] = f"{label}: event source mapping (Lambda's poller, not our code)"
            received: list[Any] = []
            while len(received) < n:
                received += sqs().receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
            if label.startswith("cold"):
                new_process()  # the worker is another Lambda: its caches start empty too
            phase["name"] = f"{label}: ingest worker"
            for start in range(0, n, 10):
                batch = received[start : start + 10]
                result = ingest.handler(sqs_event(batch, queue_arn="arn", region=LOCAL_REGION), context)
                assert result == {"batchItemFailures": []}, result
            phase["name"] = f"{label}: event source mapping (Lambda's poller, not our code)"
            for start in range(0, n, 10):
                entries = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(received[start : start + 10])
                ]
                sqs().delete_message_batch(QueueUrl=queue_url, Entries=entries)

        new_process()
        run("cold caches, 1 comment", 1)
        run(f"warm caches, {comments} comments in batches of 10", comments)
        counts.pop("setup", None)
        phase["name"] = "latency"
        latency = ack_latency(queue_url)
        counts.pop("latency", None)
        return counts, latency
    finally:
        server.stop()


def main() -> None:
    _env()
    ours, baseline = warm_cpu()
    print(f"warm CPU per event: webhook {ours:.0f} us, bare FastAPI+Mangum+SendMessage {baseline:.0f} us,")
    print(f"                    ratio {ours / baseline:.2f}x (goal <= 2x)")
    counts, latency = requests_per_comment()
    print("AWS requests per citizen comment (webhook -> stored appeal):")
    for label, counter in counts.items():
        n = int(label.split(", ")[1].split()[0]) if "warm" in label else 1
        detail = ", ".join(f"{name} {count / n:.2f}" for name, count in sorted(counter.items()))
        print(f"  {label}: {sum(counter.values()) / n:.2f} per comment ({detail})")
    ours_p50, ours_p99 = percentile(latency["webhook"], 0.5), percentile(latency["webhook"], 0.99)
    bare_p50, bare_p99 = percentile(latency["bare"], 0.5), percentile(latency["bare"], 0.99)
    print(f"ack latency, SQS on moto over HTTP, {len(latency['webhook'])} warm events each (goal: well under 2 s p99):")
    print(f"  webhook p50 {ours_p50:.1f} ms, p99 {ours_p99:.1f} ms; bare p50 {bare_p50:.1f} ms, p99 {bare_p99:.1f} ms")
    print(f"  ratio p50 {ours_p50 / bare_p50:.2f}x, p99 {ours_p99 / bare_p99:.2f}x")


if __name__ == "__main__":
    main()
