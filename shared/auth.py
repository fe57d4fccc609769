"""Bearer JWT verification and the caller's scope, used by every HTTP route but ``/vk/callback`` and ``/health``.

Issuer, audience and JWKS are configuration: a regional SSO or an ESIA-compatible OIDC provider in production,
a key pair in the state folder for the local stack. API Gateway's JWT authorizer is a second layer, not the only one.
"""

from __future__ import annotations

import json
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.config import get_settings
from shared.errors import ForbiddenError, NotFoundError

ALGORITHMS = ["RS256", "ES256"]


class Role(StrEnum):
    """What a caller may do; see README "Access" for the matrix."""

    FEDERAL_ADMIN = "federal_admin"
    REGIONAL_ADMIN = "regional_admin"
    OPERATOR = "operator"
    INSTITUTION_ADMIN = "institution_admin"
    PORTAL = "portal"


class AuthError(Exception):
    """The token is missing, malformed, expired or wrongly signed (401)."""


class Principal(BaseModel):
    """The verified caller: who, in which role, over which region and institution."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sub: str = Field(min_length=1)
    role: Role
    region: str | None = Field(default=None, pattern=r"^\d{2}$")
    institution: str | None = None

    @model_validator(mode="after")
    def _scope_is_complete(self) -> Self:
        if self.role is not Role.FEDERAL_ADMIN and self.region is None:
            raise ValueError("region claim is required for this role")
        if self.role is Role.INSTITUTION_ADMIN and not self.institution:
            raise ValueError("institution claim is required for institution_admin")
        return self

    def can_read(self, *, region_code: str, institution_id: str | None = None) -> bool:
        """True if the object of this region (and institution) is inside the caller's scope."""
        if self.role is Role.FEDERAL_ADMIN:
            return True
        if region_code != self.region:
            return False
        if self.role is Role.INSTITUTION_ADMIN:
            return institution_id is not None and institution_id == self.institution
        return True

    def ensure_can_read(self, *, region_code: str, institution_id: str | None = None) -> None:
        """Raise ``NotFoundError`` (404, no existence leak) for an object outside the scope."""
        if not self.can_read(region_code=region_code, institution_id=institution_id):
            raise NotFoundError("not found")

    def ensure_can_write(self, *, region_code: str, institution_id: str | None = None) -> None:
        """Raise ``ForbiddenError`` (403) unless the caller may change this object."""
        if self.role is Role.PORTAL:
            raise ForbiddenError("portal clients are read-only")
        if not self.can_read(region_code=region_code, institution_id=institution_id):
            raise ForbiddenError("outside your region or institution")

    def region_wide_scope(self, requested: str | None) -> str | None:
        """The region a region-wide read (lists, aggregates, exports) covers; ``None`` = all, federal admins only.

        The one rule of all three services: another region is 404 (no existence leak); an institution admin, whose
        scope is one institution, gets 403 for region-wide figures of its own region.
        """
        region = self.readable_region(requested)
        if self.role is Role.INSTITUTION_ADMIN:
            raise ForbiddenError("region-wide data needs a regional role; institution_admin sees its institution only")
        return region

    def readable_region(self, requested: str | None) -> str | None:
        """The region a list query must be restricted to (``None`` = all, federal admins only)."""
        if self.role is Role.FEDERAL_ADMIN:
            return requested
        if requested is not None and requested != self.region:
            raise NotFoundError(f"region {requested} is outside your scope")
        return self.region


@cache
def _jwks_client(url: str) -> Any:
    import jwt

    return jwt.PyJWKClient(url, cache_keys=True, lifespan=300)


@cache
def _local_keys(path: str) -> dict[str, Any]:
    import jwt

    document = json.loads(Path(path).read_text(encoding="utf-8"))
    return {key["kid"]: jwt.PyJWK(key) for key in document["keys"]}


def _signing_key(token: str) -> Any:
    """The JWK (``jwt.PyJWK``) the token names with ``kid``, from the local file or the issuer's JWKS."""
    import jwt

    settings = get_settings()
    if settings.auth_jwks_file:
        key = _local_keys(settings.auth_jwks_file).get(jwt.get_unverified_header(token).get("kid", ""))
        if key is None:
            raise AuthError("unknown signing key")
        return key
    if settings.auth_jwks_url:
        return _jwks_client(settings.auth_jwks_url).get_signing_key_from_jwt(token)
    raise AuthError("no JWKS configured")


def verify_token(token: str) -> Principal:
    """Verify signature, expiry, issuer and audience, then read the scope claims.

    The algorithm is the signing key's, never the token's choice: a header naming another algorithm is refused.
    Anything unparseable or forged is an ``AuthError`` (401), never another exception.
    """
    import jwt

    settings = get_settings()
    try:
        key = _signing_key(token)
        algorithm = key.algorithm_name
        if algorithm not in ALGORITHMS or jwt.get_unverified_header(token).get("alg") != algorithm:
            raise AuthError("token algorithm does not match its signing key")
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=settings.auth_audience,
            issuer=settings.auth_issuer,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            leeway=30,
        )
    except jwt.PyJWTError as error:
        raise AuthError(str(error)) from error
    except (TypeError, ValueError, KeyError) as error:  # malformed key material or header fields
        raise AuthError(f"malformed token: {type(error).__name__}") from error
    try:
        return Principal.model_validate(claims)
    except ValidationError as error:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'claims'}: {e['msg']}" for e in error.errors())
        raise AuthError(f"bad claims: {reasons}") from error


def reset_key_cache() -> None:
    """Forget loaded keys (after a key rotation or in tests)."""
    _local_keys.cache_clear()
    _jwks_client.cache_clear()
