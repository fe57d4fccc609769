"""Powertools structured logging with personal data kept out of every line.

Comment texts, VK user ids, tokens and secrets are personal data or credentials: any log key that names them is
replaced by ``"***"`` before the line is written, however deep it sits in the record.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
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


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def invocation_context(
    logger: Logger, *, correlation_id: Callable[[dict[str, Any]], object] | None = None
) -> Callable[[Handler], Handler]:
    """Decorate a Lambda handler so every line it logs names this invocation's function, request and cold start.

    Unlike Powertools' ``inject_lambda_context`` the keys live in the calling thread only and are removed when the
    invocation ends: where several functions share one process (the local stack), a line never carries another
    function's name.
    """

    def decorate(handler: Handler) -> Handler:
        cold = [True]

        @functools.wraps(handler)
        def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
            keys: dict[str, object] = {
                "function_name": getattr(context, "function_name", None),
                "function_memory_size": getattr(context, "memory_limit_in_mb", None),
                "function_arn": getattr(context, "invoked_function_arn", None),
                "function_request_id": getattr(context, "aws_request_id", None),
                "cold_start": cold[0],
            }
            cold[0] = False
            if correlation_id is not None:
                keys["correlation_id"] = correlation_id(event)
            logger.thread_safe_append_keys(**{name: value for name, value in keys.items() if value is not None})
            try:
                return handler(event, context)
            finally:
                logger.thread_safe_remove_keys(keys)

        return invoke

    return decorate
