"""Subscriber sync (``MetricsSubscribersFunction``, scheduled daily, no FastAPI import).

Asks VK ``groups.getById`` with ``fields=members_count`` for up to 500 communities a call with the service token
(3 requests a second, backoff on VK's rate-limit errors: ``shared.vk_api``), stores each page's count on its local
day (the next rollup turns it into growth) and tells the registry in ``page.metrics`` events. Repeating a run
stores the same counts again; the registry ignores an unchanged count.
"""

from __future__ import annotations

from shared.config import get_settings
from shared.dynamo import chunked
from shared.events import PageMetricsUpdated, make_event
from shared.logs import get_logger
from shared.publisher import publish
from shared.vk_api import VkApi
from shared.workers import ScheduledRun, scheduled_handler

from . import bootstrap
from .repository import MetricsRepository
from .service import today_in

GROUPS_PER_CALL = 500
logger = get_logger("metrics")


def sync_subscribers(*, repository: MetricsRepository, vk: VkApi, token: str) -> dict[str, int]:
    """Read every active VK page's subscriber count and store it; counts of pages synced and missing in VK."""
    synced = missing = 0
    queue_url = get_settings().registry_metrics_queue_url
    for pages in chunked(repository.vk_pages(), GROUPS_PER_CALL):
        by_group = {page.group_id: page for page in pages if page.group_id is not None}
        answer = vk.call(
            "groups.getById", {"group_ids": ",".join(map(str, by_group)), "fields": "members_count"}, token=token
        )
        groups = answer.get("groups", []) if isinstance(answer, dict) else answer
        counts = {int(group["id"]): int(group["members_count"]) for group in groups if "members_count" in group}
        events = []
        for group_id, page in by_group.items():
            if group_id not in counts:
                missing += 1
                continue
            day = today_in(page.region_code)
            repository.set_subscribers(
                page_id=page.page_id, region_code=page.region_code, day=day, subscribers=counts[group_id]
            )
            payload = PageMetricsUpdated(
                page_id=page.page_id, region_code=page.region_code, day=day, subscribers=counts[group_id]
            )
            events.append(make_event("metrics", payload))
            synced += 1
        if events and queue_url:
            publish(events, queue_urls=[queue_url])
    return {"synced": synced, "missing": missing}


def run(scheduled: ScheduledRun) -> dict[str, int | str]:  # noqa: ARG001 - every run syncs today's counts
    """One scheduled sync; skipped (and logged) while the service token is not in the secret store."""
    token = bootstrap.service_token()
    if token is None:
        logger.warning("no VK service token in the secret store; subscriber sync skipped")
        return {"skipped": "no service token"}
    return dict(sync_subscribers(repository=bootstrap.repository(), vk=bootstrap.vk(), token=token))


handler = scheduled_handler(run, service="metrics")
