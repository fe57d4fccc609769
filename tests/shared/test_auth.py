"""Bearer JWT verification and caller scope, through a real service route."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient

from shared.auth import Principal, Role
from shared.errors import ForbiddenError, NotFoundError
from tooling.local import keys

PROTECTED = "/metrics/regions/54/activity"


@pytest.fixture
def client(aws: object) -> TestClient:  # noqa: ARG001 - provisions tables and env
    from services.metrics.app import app

    return TestClient(app)


def test_valid_token_reaches_the_route(client: TestClient, auth_header: Callable[..., dict[str, str]]) -> None:
    response = client.get(PROTECTED, headers=auth_header("regional_admin", "54"))
    assert response.status_code == 200
    assert response.json()["scope"] == "region:54"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not.a.jwt"},
    ],
)
def test_missing_or_malformed_token_is_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get(PROTECTED, headers=headers)
    assert response.status_code == 401
    assert response.json()["detail"][0]["field"] == "Authorization"


def test_expired_token_is_401(client: TestClient, make_token: Callable[..., str]) -> None:
    token = make_token("federal_admin", ttl_seconds=-120)
    response = client.get(PROTECTED, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "expired" in response.json()["message"]


def test_token_signed_by_another_key_is_401(client: TestClient, tmp_path: Path, key_dir: Path) -> None:
    keys.ensure_keys(tmp_path)
    # same kid as the trusted key, different private key: the signature must not verify
    forged = keys.issue_token(tmp_path, role="federal_admin")
    trusted_kid = jwt.get_unverified_header(keys.issue_token(key_dir, role="federal_admin"))["kid"]
    claims = jwt.decode(forged, options={"verify_signature": False})
    forged = jwt.encode(claims, (tmp_path / keys.PRIVATE_KEY_FILE).read_bytes(), "RS256", headers={"kid": trusted_kid})
    assert client.get(PROTECTED, headers={"Authorization": f"Bearer {forged}"}).status_code == 401


@pytest.mark.parametrize(("claim", "value"), [("iss", "https://evil.example"), ("aud", "someone-else")])
def test_wrong_issuer_or_audience_is_401(client: TestClient, key_dir: Path, claim: str, value: str) -> None:
    token = keys.issue_token(key_dir, role="federal_admin")
    claims = jwt.decode(token, options={"verify_signature": False}) | {claim: value}
    kid = jwt.get_unverified_header(token)["kid"]
    bad = jwt.encode(claims, (key_dir / keys.PRIVATE_KEY_FILE).read_bytes(), "RS256", headers={"kid": kid})
    assert client.get(PROTECTED, headers={"Authorization": f"Bearer {bad}"}).status_code == 401


def test_token_without_a_region_for_a_regional_role_is_401(client: TestClient, key_dir: Path) -> None:
    token = keys.issue_token(key_dir, role="operator")
    response = client.get(PROTECTED, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "region" in response.json()["message"]


def test_unsigned_token_is_401(client: TestClient) -> None:
    now = int(time.time())
    claims = {
        "iss": keys.LOCAL_ISSUER,
        "aud": keys.LOCAL_AUDIENCE,
        "sub": "x",
        "role": "federal_admin",
        "iat": now,
        "exp": now + 60,
    }
    token = jwt.encode(claims, key=None, algorithm="none")
    assert client.get(PROTECTED, headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_reading_another_region_is_404(client: TestClient, auth_header: Callable[..., dict[str, str]]) -> None:
    response = client.get("/metrics/regions/01/activity", headers=auth_header("regional_admin", "54"))
    assert response.status_code == 404


def test_scope_rules() -> None:
    admin54 = Principal(sub="a", role=Role.REGIONAL_ADMIN, region="54")
    school = Principal(sub="s", role=Role.INSTITUTION_ADMIN, region="54", institution="i-1")
    portal = Principal(sub="p", role=Role.PORTAL, region="54")
    federal = Principal(sub="f", role=Role.FEDERAL_ADMIN)

    assert federal.can_read(region_code="01")
    assert admin54.can_read(region_code="54") and not admin54.can_read(region_code="01")
    assert school.can_read(region_code="54", institution_id="i-1")
    assert not school.can_read(region_code="54", institution_id="i-2")
    with pytest.raises(NotFoundError):
        admin54.ensure_can_read(region_code="01")
    with pytest.raises(ForbiddenError):
        admin54.ensure_can_write(region_code="01")
    with pytest.raises(ForbiddenError):
        portal.ensure_can_write(region_code="54")
    admin54.ensure_can_write(region_code="54")
    assert admin54.readable_region(None) == "54"
    assert federal.readable_region(None) is None
    with pytest.raises(NotFoundError):
        admin54.readable_region("01")


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "x", "role": "regional_admin"},
        {"sub": "x", "role": "institution_admin", "region": "54"},
        {"sub": "x", "role": "operator", "region": "5"},
        {"sub": "x", "role": "superuser", "region": "54"},
    ],
)
def test_incomplete_scopes_are_rejected(claims: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        Principal.model_validate(claims)


def _b64(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


def _with_header(token: str, **changes: object) -> str:
    """The token with its header fields changed (``None`` removes one); payload and signature kept."""
    header, payload, signature = token.split(".")
    fields = {**jwt.get_unverified_header(token), **changes}
    return ".".join((_b64({k: v for k, v in fields.items() if v is not None}), payload, signature))


FORGERIES: dict[str, Callable[[str], str]] = {
    "ES256 header on an RSA key": lambda t: _with_header(t, alg="ES256"),
    "HS256 header (key confusion)": lambda t: _with_header(t, alg="HS256"),
    "alg none, signature kept": lambda t: _with_header(t, alg="none"),
    "no alg": lambda t: _with_header(t, alg=None),
    "kid not in the JWKS": lambda t: _with_header(t, kid="not-a-known-kid"),
    "kid of the wrong type": lambda t: _with_header(t, kid=7),
    "no kid": lambda t: _with_header(t, kid=None),
    "unknown critical extension": lambda t: _with_header(t, crit=["x-ours"]),
    "garbage signature": lambda t: t.rsplit(".", 1)[0] + ".AAAA",
    "signature not base64": lambda t: t.rsplit(".", 1)[0] + ".!!!",
    "header is a JSON list": lambda t: ".".join((_b64([1]), *t.split(".")[1:])),
    "header is not JSON": lambda t: ".".join(("e30x", *t.split(".")[1:])),
    "only dots": lambda t: "..",
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
def test_forged_or_malformed_tokens_are_401_with_a_challenge(
    client: TestClient, make_token: Callable[..., str], forge: Callable[[str], str]
) -> None:
    response = client.get(PROTECTED, headers={"Authorization": f"Bearer {forge(make_token('federal_admin'))}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"][0]["field"] == "Authorization"


@pytest.mark.parametrize(
    "changes",
    [
        {"role": 5},
        {"role": None},
        {"region": 54},
        {"region": "5x"},
        {"sub": ""},
        {"sub": None},
        {"exp": "tomorrow"},
        {"iat": None},
        {"aud": ["someone-else"]},
        {"institution": ["a", "b"]},
    ],
    ids=str,
)
def test_signed_tokens_with_missing_or_wrongly_typed_claims_are_401(
    client: TestClient, key_dir: Path, changes: dict[str, object]
) -> None:
    token = keys.issue_token(key_dir, role="regional_admin", region="54")
    claims = {**jwt.decode(token, options={"verify_signature": False}), **changes}
    claims = {name: value for name, value in claims.items() if value is not None}
    signed = jwt.encode(
        claims,
        (key_dir / keys.PRIVATE_KEY_FILE).read_bytes(),
        "RS256",
        headers={"kid": jwt.get_unverified_header(token)["kid"]},
    )
    response = client.get(PROTECTED, headers={"Authorization": f"Bearer {signed}"})
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_region_wide_reads_follow_one_rule_in_every_service() -> None:
    federal = Principal(sub="f", role=Role.FEDERAL_ADMIN)
    operator = Principal(sub="o", role=Role.OPERATOR, region="54")
    school = Principal(sub="s", role=Role.INSTITUTION_ADMIN, region="54", institution="i-1")
    assert federal.region_wide_scope(None) is None and federal.region_wide_scope("77") == "77"
    assert operator.region_wide_scope(None) == "54" and operator.region_wide_scope("54") == "54"
    with pytest.raises(NotFoundError):
        operator.region_wide_scope("77")
    with pytest.raises(ForbiddenError, match="regional role"):
        school.region_wide_scope("54")
    with pytest.raises(NotFoundError):
        school.region_wide_scope("77")
