"""One ASGI app serving every HTTP route of the template with the same FastAPI app objects the Lambdas wrap.

API function modules expose ``app`` (the FastAPI app) next to ``handler`` (its Mangum wrapper); requests are
routed by the template's HttpApi events. As Lambda runs concurrent invocations in separate execution environments,
each request to a function runs on an event loop of its own in a worker thread (at most ``FUNCTION_CONCURRENCY`` at
once): a handler that blocks its loop - a boto3 call inside ``async def`` is fine in a Lambda, which serves one
request at a time - holds up only its own request, not every other one. Local extras: ``/health`` with each
component's status, ``/docs`` with the merged OpenAPI of all services (Swagger UI served from the pinned
``swagger-ui-bundle-v2`` package under ``/docs/static``: no CDN, works offline), and ``/_local/...`` helpers for tests
and demos.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.types import Message, Receive, Scope, Send

from tooling.local.console import mount_console
from tooling.local.fake_vk import create_router as fake_vk_router
from tooling.local.lambda_runtime import load_handler
from tooling.local.notice_receiver import create_router as notice_receiver_router
from tooling.local.template import HttpRoute

if TYPE_CHECKING:
    from tooling.local.stack import LocalStack

ASGIApp = Callable[[Scope, Receive, Send], Any]
FUNCTION_CONCURRENCY = 32
DOCS_ASSETS = "/docs/static"
Result = TypeVar("Result")


class QueueHealth(BaseModel):
    """A queue of the template: visible and in-flight messages."""

    status: Literal["ok"]
    visible: int
    in_flight: int


class ConsumerHealth(BaseModel):
    """A queue-to-function mapping of the dispatcher: batches handed to the function so far."""

    status: Literal["ok", "stopped"]
    batches: int
    succeeded: int
    failed: int


class ScheduleHealth(BaseModel):
    """A scheduled function: how often it has run."""

    status: Literal["ok"]
    runs: int


class StackHealth(BaseModel):
    """The local stack's ``/health``: ``ok`` only if every component is (tables are ``ok`` or ``missing``)."""

    status: Literal["ok", "degraded"]
    components: dict[str, QueueHealth | ConsumerHealth | ScheduleHealth | str]


def swagger_ui_assets() -> Path:
    """The folder of the Swagger UI distribution the pinned ``swagger-ui-bundle-v2`` dev dependency ships."""
    from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

    return Path(swagger_ui_path)


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


def merged_openapi(apps: list[FastAPI], *, local: dict[str, Any] | None = None) -> dict[str, Any]:
    """One OpenAPI document with the paths and schemas of every service, then those of ``local`` (which win)."""
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Gospubliki Hub", "version": "1.0.0"},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
    }
    for spec in [*(app.openapi() for app in apps), *([local] if local else [])]:
        document["paths"].update(spec.get("paths", {}))
        components = spec.get("components", {})
        document["components"]["schemas"].update(components.get("schemas", {}))
        document["components"]["securitySchemes"].update(components.get("securitySchemes", {}))
    return document


def local_routes(stack: LocalStack, apps: list[FastAPI]) -> FastAPI:
    """The local-only routes."""
    local = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    local.include_router(fake_vk_router(callback_url=f"{stack.base_url}/vk/callback"))
    local.include_router(notice_receiver_router())
    mount_console(local, stack.state_dir)
    local.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_assets()), name="docs-static")

    @local.get(
        "/health",
        tags=["health"],
        response_model=StackHealth,
        responses={503: {"model": StackHealth, "description": "A component is missing, down or stopped"}},
    )
    def health() -> JSONResponse:
        """Each component (tables, queues with depths, consumers, schedules); 503 unless every one is ok."""
        report = StackHealth.model_validate(stack.health())
        return JSONResponse(report.model_dump(mode="json"), status_code=200 if report.status == "ok" else 503)

    own = [route for route in local.routes if isinstance(route, APIRoute) and route.path == "/health"]
    own_spec = get_openapi(title="local stack", version="1.0.0", routes=own)

    @local.get("/openapi.json")
    def openapi() -> JSONResponse:
        return JSONResponse(merged_openapi(apps, local=own_spec))

    @local.get("/docs", response_class=HTMLResponse)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Gospubliki Hub - API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )

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
