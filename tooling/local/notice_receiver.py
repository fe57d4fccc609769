"""A fake notification receiver for the local stack, mounted at ``/_local/notifications``: a region's webhook.

``POST /_local/notifications`` records each notice the notifications worker delivers (its JSON body as sent and
its signature header) and answers 204, or the status set with ``POST /_local/notifications/failures`` (e.g. 500
for the next two deliveries, so the queue's retries show); ``GET /_local/notifications`` lists what was received.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

SIGNATURE_HEADER = "X-Gospubliki-Signature"


class ReceiverFailures(BaseModel):
    """The next deliveries answer these HTTP statuses, one each."""

    statuses: list[int]


def create_router() -> APIRouter:
    """The receiver's routes, with their own record of notices."""
    received: list[dict[str, Any]] = []
    failures: list[int] = []
    lock = threading.Lock()
    router = APIRouter(prefix="/_local/notifications", tags=["local: notification receiver"])

    @router.post("")
    async def receive(request: Request) -> Response:
        body = (await request.body()).decode()
        with lock:
            status = failures.pop(0) if failures else 204
            received.append({"body": body, "signature": request.headers.get(SIGNATURE_HEADER), "status": status})
        return Response(status_code=status)

    @router.get("")
    def list_received() -> list[dict[str, Any]]:
        with lock:
            return list(received)

    @router.post("/failures", status_code=204)
    def fail_next(injection: ReceiverFailures) -> None:
        with lock:
            failures.extend(injection.statuses)

    return router
