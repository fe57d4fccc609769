"""Function requests run as concurrent invocations: one that blocks its event loop holds up no other."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tooling.local.gateway import invoke_isolated

CONCURRENT = 4


def test_requests_that_block_their_loop_still_run_at_the_same_time() -> None:
    together = threading.Barrier(CONCURRENT, timeout=10)

    async def blocking_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        request = await receive()
        together.wait()  # blocks this request's loop: passes only if all requests are in flight at once
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": request["body"]})

    async def serve_all() -> list[list[dict[str, Any]]]:
        workers = ThreadPoolExecutor(max_workers=CONCURRENT)

        async def one(number: int) -> list[dict[str, Any]]:
            sent: list[dict[str, Any]] = []

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": str(number).encode(), "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                sent.append(message)

            await invoke_isolated(blocking_app, {"type": "http"}, receive, send, workers)
            return sent

        try:
            return await asyncio.gather(*(one(number) for number in range(CONCURRENT)))
        finally:
            workers.shutdown()

    responses = asyncio.run(serve_all())
    assert [sent[-1]["body"] for sent in responses] == [str(n).encode() for n in range(CONCURRENT)]
    assert all(sent[0]["status"] == 200 for sent in responses)
