"""One ASGI app serving every HTTP route of the template with the same FastAPI app objects the Lambdas wrap.

API function modules expose ``app`` (the FastAPI app) next to ``handler`` (its Mangum wrapper); requests are
routed by the template's HttpApi events. Local extras: ``/health`` with each component's status, ``/docs`` with
the merged OpenAPI of all services, and ``/_local/...`` helpers for tests and demos.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.types import Receive, Scope, Send

from tooling.local.fake_vk import create_router as fake_vk_router
from tooling.local.lambda_runtime import load_handler
from tooling.local.template import HttpRoute

if TYPE_CHECKING:
    from tooling.local.stack import LocalStack

ASGIApp = Callable[[Scope, Receive, Send], Any]


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

    def target(self, method: str, path: str) -> ASGIApp:
        """The app that serves this request."""
        for route in self.routes:
            if route.matches(method, path):
                return self.apps[route.handler]
        return self.local

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.target(scope["method"], scope["path"])(scope, receive, send)
        else:
            await self.local(scope, receive, send)
