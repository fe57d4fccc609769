"""The appeals service's wiring: its repository, the VK client, queues and secrets, built from the
settings on first use.

``shared.wiring.reset()`` forgets them, so the next use reads the (changed) environment again.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from services.appeals.repository import AppealsRepository
from shared import wiring
from shared.aws import dynamodb, secrets, sqs
from shared.config import get_settings
from shared.errors import UnavailableError
from shared.logs import get_logger

if TYPE_CHECKING:
    from services.appeals.workflow import Effects, Notice, OutboundMessage
    from shared.events import Event
    from shared.outbox import OutboxRecord
    from shared.vk_api import VkApi

SQS_BATCH_SIZE = 10
logger = get_logger("appeals")


@cache
def repository() -> AppealsRepository:
    """The appeals repository over this process's table and client (its hot-path reads cached per process)."""
    settings = get_settings()
    return AppealsRepository(
        client=dynamodb(), table=settings.appeals_table, cache_ttl_seconds=settings.cache_ttl_seconds
    )


@cache
def vk_api() -> VkApi:
    """The process's VK API client (one token bucket per community token)."""
    from shared.vk_api import VkApi

    return VkApi(base_url=get_settings().vk_api_url)


def community_token(page_id: str) -> str | None:
    """The page's community access token from the secret store (``None`` when none was set)."""
    client = secrets()
    try:
        value = client.get_secret_value(SecretId=f"{get_settings().stack_name}/vk/{page_id}")
    except client.exceptions.ResourceNotFoundException:
        return None
    return value.get("SecretString") or None


def webhook_secret(region_code: str) -> str | None:
    """The region's notification webhook secret (``None`` when none was set)."""
    from services.appeals.workflow import webhook_secret_id

    client = secrets()
    try:
        value = client.get_secret_value(SecretId=webhook_secret_id(get_settings().stack_name, region_code))
    except client.exceptions.ResourceNotFoundException:
        return None
    return value.get("SecretString") or None


def _send(queue_url: str, bodies: Sequence[tuple[str, str]]) -> None:
    """Send ``(id, body)`` messages in batches; ``UnavailableError`` if any was refused."""
    for start in range(0, len(bodies), SQS_BATCH_SIZE):
        chunk = bodies[start : start + SQS_BATCH_SIZE]
        entries = [{"Id": str(index), "MessageBody": body} for index, (_, body) in enumerate(chunk)]
        if sqs().send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed"):  # type: ignore[arg-type]
            raise UnavailableError("the queue did not accept every message; retry")


def enqueue_reply(message: OutboundMessage) -> None:
    """Put a reply on the outbound queue for the sender."""
    url = get_settings().appeals_outbound_queue_url
    if not url:
        raise UnavailableError("no outbound queue is configured (GOSPUBLIKI_APPEALS_OUTBOUND_QUEUE_URL)")
    _send(url, [(message.reply_id, message.model_dump_json())])


def send_notices(notices: Sequence[Notice]) -> None:
    """Put notices on the notifications queue (dropped when none is configured)."""
    url = get_settings().appeals_notifications_queue_url
    if url and notices:
        _send(url, [(item.notice_id, item.model_dump_json()) for item in notices])


def publish_events(events: Sequence[Event]) -> None:
    """Send appeal events and activities to the metrics service's activity queue (dropped when none is configured);
    raises if the queue did not take them all."""
    from shared.publisher import publish

    url = get_settings().activity_queue_url
    if url and events:
        publish(events, queue_urls=[url])


def dispatch_outbox(records: Sequence[OutboxRecord]) -> bool:
    """Publish the events of committed outbox records and delete them; never raises (``False``: publishing failed
    and ``AppealsOutboxFunction`` relays them)."""
    from shared.outbox import dispatch

    return dispatch(store=repository(), records=records, publish=publish_events, logger=logger)


def publish_effects(effects: Effects) -> None:
    """Publish what a change produced: its committed outbox records (a failure is left to the relay), its other
    appeal events to the metrics queue and its notices to the notifications queue."""
    from shared.events import make_event

    dispatch_outbox(effects.outbox)
    publish_events([make_event("appeals", payload) for payload in effects.events])
    send_notices(effects.notices)


wiring.on_reset(repository.cache_clear)
wiring.on_reset(vk_api.cache_clear)
