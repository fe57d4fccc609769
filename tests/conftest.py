"""Shared fixtures: a real moto server over HTTP, template-provisioned resources, real JWTs, the local stack."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared import wiring
from tooling.local import keys
from tooling.local.stack import LOCAL_REGION, LocalStack, StackOptions, free_port
from tooling.local.template import Template, load_template

TokenFactory = Callable[..., str]


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state folder holding the test signing keys."""
    path = tmp_path_factory.mktemp("keys")
    keys.ensure_keys(path)
    return path


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server for the session, over real HTTP on 127.0.0.1."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@contextlib.contextmanager
def provisioned(
    env: pytest.MonkeyPatch, *, moto_endpoint: str, key_dir: Path, log_level: str = "INFO"
) -> Iterator[Template]:
    """Every table and queue of the template under a fresh stack name, with the functions' environment set."""
    from tooling.local.state import provision

    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": LOCAL_REGION,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "GOSPUBLIKI_AWS_ENDPOINT_URL": moto_endpoint,
        "GOSPUBLIKI_AUTH_JWKS_FILE": str(key_dir / keys.JWKS_FILE),
        "POWERTOOLS_LOG_LEVEL": log_level,
    }.items():
        env.setenv(name, value)
    wiring.reset()
    template = load_template(
        stack_name=f"t{uuid.uuid4().hex[:10]}",
        region=LOCAL_REGION,
        parameters={"JwtIssuer": keys.LOCAL_ISSUER, "JwtAudience": keys.LOCAL_AUDIENCE, "JwksUrl": ""},
    )
    provision(template)
    for name, value in template.environment().items():
        env.setenv(name, value)
    env.delenv("GOSPUBLIKI_AUTH_JWKS_URL", raising=False)
    wiring.reset()
    try:
        yield template
    finally:
        wiring.reset()


@pytest.fixture
def aws(moto_endpoint: str, key_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Template]:
    """Every table and queue of the template under a fresh stack name, with the functions' environment set."""
    with provisioned(monkeypatch, moto_endpoint=moto_endpoint, key_dir=key_dir) as template:
        yield template


@pytest.fixture(scope="session")
def fake_vk() -> Iterator[str]:
    """The local stack's fake VK API served alone over HTTP; its base URL (``.../_local/vk``)."""
    import uvicorn
    from fastapi import FastAPI

    from tooling.local.fake_vk import create_router

    app = FastAPI()
    app.include_router(create_router(callback_url="http://127.0.0.1:9/unused"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{server.config.port}/_local/vk"
    server.should_exit = True
    thread.join()


@pytest.fixture
def make_token(key_dir: Path) -> TokenFactory:
    """``make_token(role, region=None, institution=None, ttl_seconds=3600)`` -> a signed bearer token."""

    def factory(role: str, region: str | None = None, institution: str | None = None, **kwargs: Any) -> str:
        return keys.issue_token(key_dir, role=role, region=region, institution=institution, **kwargs)

    return factory


@pytest.fixture
def auth_header(make_token: TokenFactory) -> Callable[..., dict[str, str]]:
    """``auth_header(role, region=None, institution=None)`` -> an Authorization header."""

    def factory(role: str, region: str | None = None, institution: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(role, region, institution)}"}

    return factory


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The whole local stack on a free port, as ``gospubliki dev`` runs it (failed messages retried at once).

    Module-scoped: it owns the process environment while it runs, so a module uses either this or ``aws``.
    """
    saved = dict(os.environ)
    stack = LocalStack(
        StackOptions(
            state_dir=tmp_path_factory.mktemp("state"),
            port=free_port(),
            stack_name=f"e2e{uuid.uuid4().hex[:8]}",
            retry_delay_seconds=0,
            run_schedules=False,
            snapshot_every_seconds=3600,
        )
    )
    stack.start()
    yield stack
    stack.stop()
    os.environ.clear()
    os.environ.update(saved)
    wiring.reset()


def wait_for(condition: Callable[[], Any], *, timeout: float = 20.0, interval: float = 0.1) -> Any:
    """Poll ``condition`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(interval)
