"""Calls to the VK API (``https://api.vk.com/method/<name>``): rate-limited per token, retried on VK's transient errors.

A community token may make 20 requests a second, a service token 3 (``shared/spec``: VK limits); a token bucket per
token keeps each process under that. VK answers HTTP 200 with ``{"error": {...}}`` on failure: errors 6 (too many
requests), 9 (flood control), 10 (internal error) and 29 (rate limit) are retried with exponential backoff, then
raised as ``VkApiError`` with ``transient`` set; every other error is permanent (``transient`` false) and never
retried. Access tokens travel in the ``Authorization`` header, never in a URL or a log line.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

API_VERSION = "5.199"
TRANSIENT_ERRORS = frozenset({6, 9, 10, 29})
COMMUNITY_TOKEN_RPS = 20.0
SERVICE_TOKEN_RPS = 3.0

READABLE_ERRORS = {
    5: "the community token is invalid or revoked: set a new one",
    7: "the community token lacks the permission for this action",
    15: "VK denied access (comments closed, or the post or message was removed)",
    100: "VK refused a parameter of the request",
    212: "comments on this post are closed",
    213: "comments on this post are closed to the community",
    222: "VK refused a link in the answer",
    223: "too many replies in this thread",
    901: "the citizen does not accept messages from the community",
    902: "the citizen's privacy settings forbid messages from the community",
}
"""What an operator is shown for a permanent VK error (VK's own message otherwise)."""


class VkApiError(Exception):
    """VK answered an error (``code`` 0: no answer at all, e.g. a network failure)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"VK error {code}: {message}")
        self.code = code
        self.message = message

    @property
    def transient(self) -> bool:
        """Worth retrying later: rate limits, VK's internal errors, no answer."""
        return self.code in TRANSIENT_ERRORS or self.code == 0

    @property
    def reason(self) -> str:
        """A readable reason for an operator."""
        return READABLE_ERRORS.get(self.code, self.message)


class TokenBucket:
    """At most ``rate`` acquisitions a second on average, bursts up to ``rate`` (thread-safe)."""

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._tokens = rate
        self._updated = clock()
        self._lock = threading.Lock()

    def wait_time(self) -> float:
        """Take one token; the seconds to wait before using it (0 when one was available)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.rate, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class VkApi:
    """A VK API client for one process: one token bucket per access token."""

    def __init__(
        self,
        *,
        base_url: str,
        rate: float = COMMUNITY_TOKEN_RPS,
        retries: int = 3,
        backoff_seconds: float = 0.5,
        timeout_seconds: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.rate = rate
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.timeout_seconds = timeout_seconds
        self._sleep = sleep
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, token: str) -> TokenBucket:
        with self._lock:
            return self._buckets.setdefault(token, TokenBucket(self.rate))

    def call(self, method: str, params: Mapping[str, Any], *, token: str) -> Any:
        """The ``response`` of one API method; ``VkApiError`` once retries are spent or on a permanent error."""
        attempt = 0
        while True:
            self._sleep(self._bucket(token).wait_time())
            try:
                return self._request(method, params, token)
            except VkApiError as error:
                if not error.transient or attempt == self.retries:
                    raise
            self._sleep(self.backoff_seconds * 2**attempt * (1 + random.random()))
            attempt += 1

    def _request(self, method: str, params: Mapping[str, Any], token: str) -> Any:
        body = urllib.parse.urlencode({**{k: v for k, v in params.items() if v is not None}, "v": API_VERSION})
        request = urllib.request.Request(
            f"{self.base_url}/{method}",
            data=body.encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                answer = json.loads(response.read())
        except UnicodeEncodeError:
            raise VkApiError(5, "the token holds characters VK never issues") from None
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as error:
            raise VkApiError(0, f"no usable answer from VK ({type(error).__name__})") from None
        if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
            problem = answer["error"]
            raise VkApiError(int(problem.get("error_code", 0)) or 1, str(problem.get("error_msg", "unknown error")))
        if not isinstance(answer, dict) or "response" not in answer:
            raise VkApiError(0, "an answer without a response")
        return answer["response"]
