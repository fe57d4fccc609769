"""Sender worker: posts queued replies to VK where the citizen wrote (SQS, outbound queue).

Entrypoint only: parse the message, call ``workflow.send_reply`` (imported on the first record). A transient VK
error fails the record, so the queue retries it (``guid`` / ``random_id`` keep VK from posting twice); a permanent
one is recorded on the appeal with a readable reason and the record succeeds.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from services.appeals import bootstrap
from shared.logs import get_logger
from shared.workers import sqs_handler

logger = get_logger("appeals")


def process_record(record: SQSRecord) -> None:
    """Send one queued reply."""
    from services.appeals.workflow import OutboundMessage, send_reply

    message = OutboundMessage.model_validate_json(record.body)
    state = send_reply(
        repository=bootstrap.repository(),
        vk=bootstrap.vk_api(),
        token_of=bootstrap.community_token,
        message=message,
    )
    logger.info("reply processed", extra={"appeal_id": message.appeal_id, "reply_id": message.reply_id, "state": state})


handler = sqs_handler(process_record, service="appeals")
