"""VK Callback API webhook: ``POST /vk/callback`` verifies, acknowledges and queues every community event.

The only work done before answering is a cached page lookup, a constant-time secret check and one ``SendMessage``;
everything else happens in the ingest worker. Answers are plain text and can never be ``remove`` or start with
``version`` (VK would delete the callback server or switch its API version).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from services.appeals import bootstrap
from services.appeals.repository import PageRef
from shared.aws import sqs
from shared.config import get_settings
from shared.logs import get_logger
from shared.vk_secret import secret_matches
from shared.web import lambda_handler

MAX_BODY_BYTES = 256 * 1024
RETRY_AFTER_SECONDS = "10"

logger = get_logger("appeals")
app = FastAPI(title="Gospubliki Hub - VK Callback", docs_url=None, redoc_url=None, openapi_url=None)


def is_safe_body(body: str) -> bool:
    """False for the strings VK treats as commands (``remove``, ``version ...``)."""
    probe = body.strip().lower()
    return probe != "remove" and not probe.startswith("version")


def _reply(status_code: int, body: str, headers: dict[str, str] | None = None) -> Response:
    if not is_safe_body(body):  # unreachable with the bodies below; kept as the last line of defence
        status_code, body = 503, "unavailable"
    return Response(body, status_code=status_code, media_type="text/plain", headers=headers)


def _unavailable() -> Response:
    return _reply(503, "unavailable", {"Retry-After": RETRY_AFTER_SECONDS})


def _group_id(envelope: dict[str, Any]) -> int | None:
    value = envelope.get("group_id")
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _confirm(page: PageRef) -> Response:
    code = page.confirmation_code
    if not code:
        logger.warning("no confirmation code for page yet", extra={"page_id": page.page_id})
        return _unavailable()
    if not is_safe_body(code):
        logger.error("confirmation code refused: VK would read it as a command", extra={"page_id": page.page_id})
        return _reply(403, "forbidden")
    return _reply(200, code)


def _enqueue(envelope: dict[str, Any], event_type: str, group_id: int, retry_counter: str | None) -> None:
    message = {
        "received_at": datetime.now(UTC).isoformat(),
        "retry_counter": int(retry_counter) if retry_counter and retry_counter.isdigit() else None,
        "envelope": envelope,
    }
    sqs().send_message(
        QueueUrl=get_settings().ingest_queue_url,
        MessageBody=json.dumps(message, ensure_ascii=False, separators=(",", ":")),
        MessageAttributes={
            "type": {"DataType": "String", "StringValue": event_type},
            "group_id": {"DataType": "Number", "StringValue": str(group_id)},
        },
    )


@app.post("/vk/callback", response_class=Response)
async def callback(request: Request) -> Response:
    """Answer VK: 400 malformed, 403 unknown group or bad secret, the code for ``confirmation``, else ``ok``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return _reply(413, "too large")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        return _reply(413, "too large")
    try:
        envelope = json.loads(raw)
    except ValueError:
        return _reply(400, "bad request")
    event_type = envelope.get("type") if isinstance(envelope, dict) else None
    group_id = _group_id(envelope) if isinstance(envelope, dict) else None
    if not isinstance(event_type, str) or not event_type or group_id is None:
        return _reply(400, "bad request")
    try:
        page = bootstrap.page_cache().lookup(group_id)
    except Exception:  # the projection is unreadable: VK retries later
        logger.exception("page lookup failed", extra={"group_id": group_id})
        return _unavailable()
    if page is None or not page.active:
        logger.warning("callback for an unknown or archived group", extra={"group_id": group_id, "type": event_type})
        return _reply(403, "forbidden")
    secret = envelope.pop("secret", None)
    secret = secret if isinstance(secret, str) else None
    verified = secret_matches(secret, salt=page.secret_salt, expected_hash=page.secret_hash)
    if event_type == "confirmation":
        # VK may omit the secret on confirmation; a wrong one is still refused (vk-callback.md §1).
        return _confirm(page) if verified or secret is None else _reply(403, "bad secret")
    if not verified:
        logger.warning("callback with a missing or wrong secret", extra={"group_id": group_id, "type": event_type})
        return _reply(403, "bad secret")
    try:
        _enqueue(envelope, event_type, group_id, request.headers.get("x-retry-counter"))
    except Exception:  # nothing is lost: VK resends after Retry-After
        logger.exception("ingest queue write failed", extra={"group_id": group_id, "type": event_type})
        return _unavailable()
    return _reply(200, "ok")


handler = lambda_handler(app, service="appeals")
