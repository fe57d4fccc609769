"""Notifications worker: delivers overdue and urgent-appeal notices to each region's webhook (SQS).

The body is the notice's JSON (no text, no citizen ids), signed with the region's secret
(``services.appeals.notifications``). A failed delivery fails the record: the queue retries it, then keeps it in
the dead-letter queue. A region without a webhook drops its notices.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from services.appeals import bootstrap
from services.appeals.notifications import deliver
from shared.logs import get_logger
from shared.workers import sqs_handler

logger = get_logger("appeals")


def process_record(record: SQSRecord) -> None:
    """Deliver one notice."""
    from services.appeals.workflow import Notice, notice_body

    notice = Notice.model_validate_json(record.body)
    policy = bootstrap.repository().read_policy(notice.region_code)
    url = policy.get("webhook_url") if policy else None
    secret = bootstrap.webhook_secret(notice.region_code) if url else None
    if not url or not secret:
        logger.info("no webhook for the region; notice dropped", extra={"region_code": notice.region_code})
        return
    deliver(url=url, secret=secret, body=notice_body(notice))
    logger.info("notice delivered", extra={"notice_id": notice.notice_id, "region_code": notice.region_code})


handler = sqs_handler(process_record, service="appeals")
