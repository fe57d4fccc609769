"""The VK API client against the fake VK over HTTP: retries on transient errors only, token bucket, no token leaks."""

from __future__ import annotations

import httpx
import pytest

from shared.vk_api import TokenBucket, VkApi, VkApiError
from tooling.local.stack import free_port

TOKEN = "vk1.a.community-token-of-test"


def _client(base: str, slept: list[float]) -> VkApi:
    return VkApi(base_url=f"{base}/method", backoff_seconds=0.5, sleep=slept.append)


def test_a_transient_error_is_retried_with_backoff(fake_vk: str) -> None:
    httpx.post(f"{fake_vk}/failures", json={"method": "messages.send", "errors": [6, 10]})
    slept: list[float] = []
    message_id = _client(fake_vk, slept).call(
        "messages.send", {"group_id": 5, "peer_id": 42, "random_id": 1, "message": "Ответ"}, token=TOKEN
    )
    assert isinstance(message_id, int)
    backoffs = [pause for pause in slept if pause > 0]
    assert len(backoffs) == 2 and 0.5 <= backoffs[0] <= 1.0 and 1.0 <= backoffs[1] <= 2.0


def test_a_permanent_error_is_raised_at_once_with_a_readable_reason(fake_vk: str) -> None:
    httpx.post(f"{fake_vk}/failures", json={"method": "wall.createComment", "errors": [15]})
    slept: list[float] = []
    with pytest.raises(VkApiError) as raised:
        _client(fake_vk, slept).call("wall.createComment", {"owner_id": -5, "post_id": 1}, token=TOKEN)
    assert (raised.value.code, raised.value.transient) == (15, False)
    assert "denied" in raised.value.reason and not [pause for pause in slept if pause > 0]


def test_retries_end_and_the_error_stays_transient(fake_vk: str) -> None:
    httpx.post(f"{fake_vk}/failures", json={"method": "groups.getById", "errors": [6, 6, 6, 6]})
    with pytest.raises(VkApiError) as raised:
        _client(fake_vk, []).call("groups.getById", {"group_ids": "5"}, token=TOKEN)
    assert raised.value.transient and raised.value.code == 6


def test_a_token_no_http_header_can_carry_is_refused_as_invalid(fake_vk: str) -> None:
    with pytest.raises(VkApiError) as raised:
        _client(fake_vk, []).call("groups.getById", {}, token="токен")
    assert (raised.value.code, raised.value.transient) == (5, False)


def test_no_answer_is_a_transient_error() -> None:
    client = VkApi(base_url=f"http://127.0.0.1:{free_port()}/method", retries=0, sleep=lambda _: None)
    with pytest.raises(VkApiError) as raised:
        client.call("groups.getById", {}, token=TOKEN)
    assert raised.value.code == 0 and raised.value.transient


def test_the_token_travels_in_a_header_only(fake_vk: str) -> None:
    _client(fake_vk, []).call("groups.getById", {"group_ids": "77"}, token=TOKEN)
    calls = httpx.get(f"{fake_vk}/calls", params={"method": "groups.getById"}).json()
    assert calls and TOKEN not in str(calls)


def test_the_bucket_holds_a_token_to_its_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(20, clock=lambda: now[0])
    waits = [bucket.wait_time() for _ in range(25)]
    assert waits[:20] == [0.0] * 20 and waits[20:] == pytest.approx([0.05, 0.1, 0.15, 0.2, 0.25])
    now[0] = 10.0
    assert bucket.wait_time() == 0.0
