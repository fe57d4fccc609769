"""Local signing keys: an RSA key pair in the state folder, its JWKS, and tokens the local stack accepts."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

LOCAL_ISSUER = "gospubliki-local"
LOCAL_AUDIENCE = "gospubliki-hub"
PRIVATE_KEY_FILE = "jwt-private.pem"
JWKS_FILE = "jwks.json"


def ensure_keys(state_dir: Path) -> Path:
    """Create the key pair and JWKS once; return the JWKS path."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    state_dir.mkdir(parents=True, exist_ok=True)
    private_path = state_dir / PRIVATE_KEY_FILE
    jwks_path = state_dir / JWKS_FILE
    if private_path.exists() and jwks_path.exists():
        return jwks_path
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    private_path.chmod(0o600)
    public_jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    public_jwk.update({"kid": uuid.uuid4().hex[:16], "use": "sig", "alg": "RS256"})
    jwks_path.write_text(json.dumps({"keys": [public_jwk]}, indent=2), encoding="utf-8")
    return jwks_path


def issue_token(
    state_dir: Path,
    *,
    role: str,
    region: str | None = None,
    institution: str | None = None,
    ttl_seconds: int = 3600,
    sub: str | None = None,
) -> str:
    """A signed JWT for the local stack that uses ``state_dir``."""
    import jwt

    jwks_path = ensure_keys(state_dir)
    kid = json.loads(jwks_path.read_text(encoding="utf-8"))["keys"][0]["kid"]
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "sub": sub or f"local-{role}",
        "iat": now,
        "exp": now + ttl_seconds,
        "role": role,
    }
    if region is not None:
        claims["region"] = region
    if institution is not None:
        claims["institution"] = institution
    private_key = (state_dir / PRIVATE_KEY_FILE).read_bytes()
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": kid})
