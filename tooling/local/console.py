"""The operator console on the local stack: its static files at ``/console/``, ``/`` redirecting there, and a
local-only dev sign-in (``POST /_local/token``) that mints a token with the stack's own signing key.

The cloud serves the same files from S3 behind CloudFront, with a ``config.json`` naming the OIDC issuer instead.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, model_validator

from tooling.local import keys

CONSOLE_DIR = Path(__file__).resolve().parents[2] / "console" / "app"
TOKEN_TTL_SECONDS = 8 * 3600

Role = Literal["federal_admin", "regional_admin", "operator", "institution_admin", "portal"]


class TokenRequest(BaseModel):
    """Who to sign in as: a role, its region (all but ``federal_admin``) and institution (``institution_admin``)."""

    role: Role
    region: str | None = Field(default=None, pattern=r"^\d{2}$")
    institution: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")

    @model_validator(mode="after")
    def _scope(self) -> TokenRequest:
        if self.role != "federal_admin" and self.region is None:
            raise ValueError(f"region is required for the role {self.role}")
        if self.role == "institution_admin" and self.institution is None:
            raise ValueError("institution is required for the role institution_admin")
        return self


class TokenResponse(BaseModel):
    """A bearer token the local stack accepts, and when it expires (Unix seconds)."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_at: int


def create_router(state_dir: Path) -> APIRouter:
    """The console's local routes: redirects, its runtime configuration and the dev sign-in."""
    router = APIRouter()

    @router.get("/", include_in_schema=False)
    @router.get("/console", include_in_schema=False)
    def to_console() -> RedirectResponse:
        return RedirectResponse("/console/")

    @router.get("/console/config.json", include_in_schema=False)
    def config() -> JSONResponse:
        return JSONResponse({"mode": "local", "api_base": ""}, headers={"Cache-Control": "no-store"})

    @router.post("/_local/token", response_model=TokenResponse)
    def token(request: TokenRequest) -> TokenResponse:
        """A token for any role (local stack only: the cloud signs in through its OIDC issuer)."""
        token = keys.issue_token(
            state_dir,
            role=request.role,
            region=None if request.role == "federal_admin" else request.region,
            institution=request.institution if request.role == "institution_admin" else None,
            ttl_seconds=TOKEN_TTL_SECONDS,
            sub=f"console-{request.role}",
        )
        return TokenResponse(access_token=token, expires_at=int(time.time()) + TOKEN_TTL_SECONDS)

    return router


def mount_console(app: FastAPI, state_dir: Path) -> None:
    """Add the console's routes and its static files (``console/app``) to ``app``."""
    app.include_router(create_router(state_dir))
    app.mount("/console", StaticFiles(directory=CONSOLE_DIR, html=True, check_dir=False), name="console")
