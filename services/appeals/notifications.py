"""Notices to a region's own HTTPS webhook (the ЦУР's chat bot or mail gateway): signed JSON, retried by the queue.

The body is JSON without personal data (no text, no citizen ids). The header ``X-Gospubliki-Signature`` is
``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body under the region's notification secret>``; a receiver
checks it with ``verify_signature`` (or the same three lines in its own language) and refuses stale timestamps.
A delivery that fails raises ``DeliveryError``: the worker reports the record failed, the queue retries it, and
after the last retry the notice waits in the dead-letter queue.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request

SIGNATURE_HEADER = "X-Gospubliki-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300


class DeliveryError(Exception):
    """The receiver did not take the notice (network failure or a non-2xx answer)."""


def sign(body: bytes, *, secret: str, timestamp: int) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(body: bytes, header: str, *, secret: str, now: float | None = None) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and is at most ``SIGNATURE_TOLERANCE_SECONDS`` old."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(sign(body, secret=secret, timestamp=timestamp), f"t={timestamp},v1={parts.get('v1')}")


def deliver(*, url: str, secret: str, body: bytes, timeout_seconds: float = 5.0) -> None:
    """POST a signed notice; ``DeliveryError`` unless the receiver answers 2xx."""
    request = urllib.request.Request(
        url,
        data=body,
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(body, secret=secret, timestamp=int(time.time())),
            "User-Agent": "gospubliki-hub-notifications",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"the receiver answered HTTP {error.code}") from None
    except (urllib.error.URLError, TimeoutError) as error:
        raise DeliveryError(f"the receiver is unreachable ({type(error).__name__})") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"the receiver answered HTTP {status}")
