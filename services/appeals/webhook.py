"""VK Callback API webhook: ``POST /vk/callback`` verifies, acknowledges and queues every community event.

The only work done before answering is a cached page lookup, a constant-time secret check and one ``SendMessage``;
everything else happens in the ingest worker. Answers are plain text and can never be ``remove`` or start with
``version`` (VK would delete the callback server or switch its API version).

Only what the queue and the worker can carry is queued: a JSON object nested at most ``MAX_JSON_DEPTH`` levels, with
a bounded ``group_id`` and a plain event type (else 400), its lone surrogates replaced by U+FFFD. An unknown or
archived group and a wrong secret get the same answer after the same work, so groups cannot be enumerated.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from services.appeals import bootstrap
from services.appeals.repository import PageRef
from shared.aws import sqs
from shared.config import get_settings
from shared.logs import get_logger
from shared.vk_ids import parse_vk_id
from shared.vk_secret import hash_secret, new_salt, secret_matches
from shared.web import lambda_handler

MAX_BODY_BYTES = 256 * 1024
MAX_QUEUED_BYTES = 255 * 1024  # the ingest message with its attributes must fit SQS's (and YMQ's) 256 KiB
MAX_JSON_DEPTH = 64  # far above VK's payloads, far below what any parser on the way refuses
MAX_RETRY_COUNTER_DIGITS = 6
RETRY_AFTER_SECONDS = "10"
EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]{0,63}")
UNSENDABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")
"""Lone surrogates (``json`` pairs valid ones) and the noncharacters SQS refuses: each becomes U+FFFD."""

logger = get_logger("appeals")
app = FastAPI(title="Gospubliki Hub - VK Callback", docs_url=None, redoc_url=None, openapi_url=None)
_decoy_salt = new_salt()
_decoy_hash = hash_secret(new_salt(), _decoy_salt)  # what an unknown group's secret is checked against


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


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _sendable(value: Any, *, depth: int = 1) -> Any:
    """``value`` with every string (and key) made sendable; ``ValueError`` past ``MAX_JSON_DEPTH`` levels."""
    if isinstance(value, str):
        return UNSENDABLE.sub("\ufffd", value)
    if not isinstance(value, dict | list):
        return value
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, list):
        return [_sendable(item, depth=depth + 1) for item in value]
    return {UNSENDABLE.sub("\ufffd", key): _sendable(item, depth=depth + 1) for key, item in value.items()}


def _envelope(raw: bytes) -> dict[str, Any] | None:
    """The callback body as a sendable JSON object; ``None`` if it is not one (or nests too deeply)."""
    try:
        envelope = _sendable(json.loads(raw, parse_constant=_not_json))
    except (ValueError, RecursionError):
        return None
    return envelope if isinstance(envelope, dict) else None


def _retry_counter(header: str | None) -> int | None:
    """VK's ``X-Retry-Counter`` if it is a plain small decimal number."""
    if header and len(header) <= MAX_RETRY_COUNTER_DIGITS and header.isascii() and header.isdigit():
        return int(header)
    return None


def _secret_check(page: PageRef | None) -> tuple[str, str]:
    """Salt and hash a secret is checked against: the active page's, else a decoy (an unknown group costs the same)."""
    if page is not None and page.active and page.secret_salt and page.secret_hash:
        return page.secret_salt, page.secret_hash
    return _decoy_salt, _decoy_hash


def _confirm(page: PageRef) -> Response:
    code = page.confirmation_code
    if not code:
        logger.warning("no confirmation code for page yet", extra={"page_id": page.page_id})
        return _unavailable()
    if not is_safe_body(code):
        logger.error("confirmation code refused: VK would read it as a command", extra={"page_id": page.page_id})
        return _reply(403, "forbidden")
    return _reply(200, code)


def _queued_message(envelope: dict[str, Any], retry_counter: int | None) -> str:
    message = {"received_at": datetime.now(UTC).isoformat(), "retry_counter": retry_counter, "envelope": envelope}
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def _enqueue(body: str, event_type: str, group_id: int) -> None:
    sqs().send_message(
        QueueUrl=get_settings().ingest_queue_url,
        MessageBody=body,
        MessageAttributes={
            "type": {"DataType": "String", "StringValue": event_type},
            "group_id": {"DataType": "Number", "StringValue": str(group_id)},
        },
    )


@app.post("/vk/callback", response_class=Response)
async def callback(request: Request) -> Response:
    """Answer VK: 400 malformed, 403 unknown group or bad secret (alike), the code for ``confirmation``, else ``ok``."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return _reply(413, "too large")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        return _reply(413, "too large")
    envelope = _envelope(raw)
    event_type = envelope.get("type") if envelope is not None else None
    group_id = parse_vk_id(envelope.get("group_id")) if envelope is not None else None
    if envelope is None or not isinstance(event_type, str) or not EVENT_TYPE.fullmatch(event_type) or group_id is None:
        return _reply(400, "bad request")
    try:
        page = bootstrap.repository().cached_page_by_group(group_id)
    except Exception:  # the projection is unreadable: VK retries later
        logger.exception("page lookup failed", extra={"group_id": group_id})
        return _unavailable()
    secret = envelope.pop("secret", None)
    secret = secret if isinstance(secret, str) else None
    salt, expected_hash = _secret_check(page)
    verified = secret_matches(secret, salt=salt, expected_hash=expected_hash)
    # VK may omit the secret on confirmation; a wrong one is still refused (vk-callback.md §1).
    if page is None or not page.active or not (verified or (event_type == "confirmation" and secret is None)):
        known = page is not None and page.active
        refusal = "callback with a missing or wrong secret" if known else "callback for an unknown or archived group"
        logger.warning(refusal, extra={"group_id": group_id, "type": event_type})
        return _reply(403, "forbidden")
    if event_type == "confirmation":
        return _confirm(page)
    body = _queued_message(envelope, _retry_counter(request.headers.get("x-retry-counter")))
    if len(body.encode()) > MAX_QUEUED_BYTES:
        return _reply(413, "too large")
    try:
        _enqueue(body, event_type, group_id)
    except Exception:  # nothing is lost: VK resends after Retry-After
        logger.exception("ingest queue write failed", extra={"group_id": group_id, "type": event_type})
        return _unavailable()
    return _reply(200, "ok")


handler = lambda_handler(app, service="appeals")
