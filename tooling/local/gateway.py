"""One ASGI app serving every HTTP route of the template with the same FastAPI app objects the Lambdas wrap.

API function modules expose ``app`` (the FastAPI app) next to ``handler`` (its Mangum wrapper); requests are
routed by the template's HttpApi events. As Lambda runs concurrent invocations in separate execution environments,
each request to a function runs on an event loop of its own in a worker thread (at most ``FUNCTION_CONCURRENCY`` at
once): a handler that blocks its loop - a boto3 call inside ``async def`` is fine in a Lambda, which serves one
request at a time - holds up only its own request, not every other one. Local extras: ``/health`` with each
component's status, ``/docs`` with the merged OpenAPI of all services, and ``/_local/...`` helpers for tests and
demos.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.types import Message, Receive, Scope, Send

from tooling.local.fake_vk import create_router as fake_vk_router
from tooling.local.lambda_runtime import load_handler
from tooling.local.template import HttpRoute

if TYPE_CHECKING:
    from tooling.local.stack import LocalStack

ASGIApp = Callable[[Scope, Receive, Send], Any]
FUNCTION_CONCURRENCY = 32
Result = TypeVar("Result")


async def _on_loop(loop: asyncio.AbstractEventLoop, call: Callable[[], Awaitable[Result]]) -> Result:
    """Await ``call()`` on ``loop`` (uvicorn's) from the running loop (a worker's)."""

    async def run() -> Result:
        return await call()

    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(run(), loop))


async def invoke_isolated(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, workers: ThreadPoolExecutor
) -> None:
    """Run ``app`` for one request on a new event loop in a worker thread; its messages go through uvicorn's loop."""
    loop = asyncio.get_running_loop()

    async def receive_here() -> Message:
        return await _on_loop(loop, receive)

    async def send_here(message: Message) -> None:
        await _on_loop(loop, lambda: send(message))

    await loop.run_in_executor(workers, asyncio.run, app(scope, receive_here, send_here))


def _module_app(route: HttpRoute) -> FastAPI:
    module_name = route.handler.rpartition(".")[0]
    app = load_handler(f"{module_name}.app")
    if not isinstance(app, FastAPI):
        raise TypeError(f"{route.function_id}: {module_name}.app must be the FastAPI app the handler wraps")
    return app


def merged_openapi(apps: list[FastAPI]) -> dict[str, Any]:
    """One OpenAPI document with the paths and schemas of every service."""
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Gospubliki Hub", "version": "1.0.0"},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
    }
    for app in apps:
        spec = app.openapi()
        document["paths"].update(spec.get("paths", {}))
        components = spec.get("components", {})
        document["components"]["schemas"].update(components.get("schemas", {}))
        document["components"]["securitySchemes"].update(components.get("securitySchemes", {}))
    return document


def local_routes(stack: LocalStack, apps: list[FastAPI]) -> FastAPI:
    """The local-only routes."""
    local = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    local.include_router(fake_vk_router(callback_url=f"{stack.base_url}/vk/callback"))

    @local.get("/health")
    def health() -> JSONResponse:
        report = stack.health()
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

    @local.get("/openapi.json")
    def openapi() -> JSONResponse:
        return JSONResponse(merged_openapi(apps))

    @local.get("/docs", response_class=HTMLResponse)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Gospubliki Hub - API")

    @local.post("/_local/schedules/{function_id}")
    def fire_schedule(function_id: str) -> JSONResponse:
        if function_id not in stack.scheduler.schedules:
            return JSONResponse({"message": f"function_id: no schedule for {function_id}"}, status_code=404)
        return JSONResponse({"function_id": function_id, "result": stack.scheduler.fire(function_id)})

    @local.get("/_local/queues")
    def queues() -> JSONResponse:
        return JSONResponse(stack.queue_depths())

    return local


class Gateway:
    """Routes each request to the app of the function whose HttpApi event matches, else to the local routes."""

    def __init__(self, stack: LocalStack) -> None:
        self.routes = [route for route in stack.template.http_routes() if route.path != "/health"]
        apps: dict[str, FastAPI] = {}
        for route in self.routes:
            apps.setdefault(route.handler, _module_app(route))
        self.apps = apps
        self.local = local_routes(stack, list(dict.fromkeys(apps.values())))
        self._workers = ThreadPoolExecutor(max_workers=FUNCTION_CONCURRENCY, thread_name_prefix="function")

    def target(self, method: str, path: str) -> ASGIApp:
        """The app that serves this request."""
        for route in self.routes:
            if route.matches(method, path):
                return self.apps[route.handler]
        return self.local

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.target(scope["method"], scope["path"]) if scope["type"] == "http" else self.local
        if app is self.local:
            await app(scope, receive, send)
        else:
            await invoke_isolated(app, scope, receive, send, self._workers)

    def close(self) -> None:
        """Stop the worker threads (after the HTTP server has stopped)."""
        self._workers.shutdown(wait=True, cancel_futures=True)
