"""Powertools structured logging with personal data kept out of every line.

Comment texts, VK user ids, tokens and secrets are personal data or credentials: any log key that names them is
replaced by ``"***"`` before the line is written, however deep it sits in the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

REDACTED = "***"
SENSITIVE_KEYS = frozenset(
    {
        "text",
        "message_text",
        "secret",
        "secret_key",
        "token",
        "access_token",
        "authorization",
        "password",
        "confirmation_code",
        "from_id",
        "user_id",
        "author_id",
        "liker_id",
        "deleter_id",
        "peer_id",
        "vk_user_id",
    }
)


def redact(value: Any) -> Any:
    """A copy of ``value`` with every sensitive key's value replaced."""
    if isinstance(value, Mapping):
        return {key: REDACTED if str(key).lower() in SENSITIVE_KEYS else redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


class RedactingFormatter(LambdaPowertoolsFormatter):
    """JSON formatter that redacts personal data and credentials."""

    def serialize(self, log: Any) -> str:
        return super().serialize(redact(log))


def get_logger(service: str) -> Logger:
    """The service's logger (JSON, correlation ids, redaction)."""
    return Logger(service=service, logger_formatter=RedactingFormatter(), utc=True)
