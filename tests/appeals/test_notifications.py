"""Notice delivery over HTTP: a valid signature the receiver can check, failures raised for the queue to retry."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from services.appeals.notifications import SIGNATURE_HEADER, DeliveryError, deliver, sign, verify_signature
from tooling.local.stack import free_port

SECRET = "region-54-notification-secret"


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[bytes, str]], list[int]]]:
    """An HTTP receiver answering the queued statuses (then 200); yields its URL, what it got and the statuses."""
    got: list[tuple[bytes, str]] = []
    statuses: list[int] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append((self.rfile.read(int(self.headers["Content-Length"])), self.headers[SIGNATURE_HEADER]))
            self.send_response(statuses.pop(0) if statuses else 200)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/notify", got, statuses
    server.shutdown()


def test_a_notice_arrives_with_a_signature_the_receiver_verifies(
    receiver: tuple[str, list[tuple[bytes, str]], list[int]],
) -> None:
    url, got, _ = receiver
    body = json.dumps({"type": "appeal.overdue", "appeal_id": "a-1"}).encode()
    deliver(url=url, secret=SECRET, body=body)
    ((received, header),) = got
    assert received == body and verify_signature(received, header, secret=SECRET)
    assert not verify_signature(received, header, secret="another-secret")
    assert not verify_signature(received + b" ", header, secret=SECRET)
    assert not verify_signature(received, header, secret=SECRET, now=time.time() + 3600)


def test_a_refused_or_unreachable_delivery_raises(receiver: tuple[str, list[tuple[bytes, str]], list[int]]) -> None:
    url, got, statuses = receiver
    statuses.extend([503, 404])
    for _ in range(2):
        with pytest.raises(DeliveryError, match="HTTP"):
            deliver(url=url, secret=SECRET, body=b"{}")
    deliver(url=url, secret=SECRET, body=b"{}")
    assert len(got) == 3
    with pytest.raises(DeliveryError, match="unreachable"):
        deliver(url=f"http://127.0.0.1:{free_port()}/", secret=SECRET, body=b"{}", timeout_seconds=1)


def test_the_signature_is_hmac_sha256_of_timestamp_and_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign(b"{}", secret=SECRET, timestamp=1_700_000_000) == f"t=1700000000,v1={expected}"
    assert not verify_signature(b"{}", "garbage", secret=SECRET)
