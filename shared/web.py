"""What every service's FastAPI app has in common: auth dependency, error shapes, OpenAPI ids, Lambda adapter.

Errors always come back as ``{"detail": [{"field", "message", "loc"}], "message": "field: reason"}`` with a 4xx
status, never as a 500 for bad input.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.auth import AuthError, Principal, verify_token
from shared.errors import DomainError
from shared.logs import get_logger, invocation_context
from shared.regions import is_region


class ErrorItem(BaseModel):
    """One problem: the field it concerns (``None`` for the request as a whole) and why."""

    field: str | None
    message: str
    loc: list[str | int] | None = None


class ErrorBody(BaseModel):
    """Every error answer of every service: a one-line summary and the problems behind it."""

    message: str
    detail: list[ErrorItem]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "Unreadable request (e.g. a cursor that does not belong to this query)",
        401: "Missing, malformed, expired or forged bearer token",
        403: "Not allowed for your role or outside your scope; `message` says what was refused and why",
        404: "Not found, or outside your scope",
        409: "The write collides with an existing object",
        413: "The request body, or what it unpacks to, is past a size limit",
        422: "A field's value is invalid; `detail` names each field and the reason",
        503: "A dependency is unavailable; retry later",
    }.items()
}
"""Errors any route may answer, declared in every service's OpenAPI with the one error schema."""

_bearer = HTTPBearer(auto_error=False, description="JWT from the regional SSO (`gospubliki token` locally)")


def _unauthorized(reason: str) -> DomainError:
    error = DomainError(reason, field="Authorization")
    error.status_code = 401
    return error


def get_principal(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The verified caller of this request (401 when the bearer token is missing or invalid)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing bearer token")
    try:
        return verify_token(credentials.credentials)
    except AuthError as error:
        raise _unauthorized(f"invalid token: {error}") from error


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def _known_region(code: str) -> str:
    if not is_region(code):
        raise ValueError(f"unknown region code '{code}'")
    return code


KnownRegion = Annotated[str, AfterValidator(_known_region)]
"""A 2-digit code of one of the 89 federal subjects (422 ``unknown region code`` otherwise)."""


def _error_body(status_code: int, items: list[dict[str, Any]]) -> JSONResponse:
    summary = "; ".join(f"{i['field']}: {i['message']}" if i.get("field") else i["message"] for i in items)
    headers = {"WWW-Authenticate": "Bearer"} if status_code == 401 else None
    return JSONResponse({"message": summary, "detail": items}, status_code=status_code, headers=headers)


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    if list(loc[:1]) == ["body"] and all(isinstance(part, int) for part in loc[1:]):
        return "body"  # the body as a whole (not JSON, not an object)
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "body"


async def _on_validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    items = [
        {"field": _field_of(problem.get("loc", ())), "message": _message_of(problem), "loc": list(problem["loc"])}
        for problem in error.errors()
    ]
    return _error_body(422, items)


def _message_of(problem: dict[str, Any]) -> str:
    """pydantic's message, reworded where it would confuse (raw input values are never echoed)."""
    kind, context = problem.get("type"), problem.get("ctx") or {}
    if kind == "json_invalid":
        return f"invalid JSON: {context.get('error', 'cannot be parsed')}"
    if kind == "too_short" and isinstance(problem.get("input"), str):  # SecretStr says "items"
        return f"must have at least {context.get('min_length')} characters"
    if kind == "too_long" and isinstance(problem.get("input"), str):
        return f"must have at most {context.get('max_length')} characters"
    return str(problem.get("msg", "invalid")).removeprefix("Value error, ")


async def _on_domain_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    return _error_body(error.status_code, [{"field": error.field, "message": error.message}])


async def _on_http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    return _error_body(error.status_code, [{"field": None, "message": str(error.detail)}])


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(*, service: str, title: str, description: str = "") -> FastAPI:
    """A FastAPI app with the project's error shapes and stable OpenAPI operation ids."""
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        generate_unique_id_function=_operation_id,
        docs_url=None,
        redoc_url=None,
        openapi_url=f"/openapi/{service}.json",
        responses=ERROR_RESPONSES,
    )
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    return app


def _request_id(event: dict[str, Any]) -> object:
    context = event.get("requestContext")
    return context.get("requestId") if isinstance(context, dict) else None


def lambda_handler(app: FastAPI, *, service: str) -> Any:
    """Wrap ``app`` for API Gateway (HTTP API v2, and YC API Gateway's v1 payload) with request-id logging."""
    from mangum import Mangum

    asgi = Mangum(app, lifespan="off")

    @invocation_context(get_logger(service), correlation_id=_request_id)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        response: dict[str, Any] = asgi(event, context)
        return response

    return handler
