"""Domain errors raised by service layers; the web layer maps them to HTTP statuses."""

from __future__ import annotations


class DomainError(Exception):
    """Base of errors a caller can act on."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadRequestError(DomainError):
    """The request cannot be understood at all (a tampered cursor, an unreadable body)."""

    status_code = 400


class NotFoundError(DomainError):
    """The object does not exist, or is outside the caller's scope (no existence leak)."""

    status_code = 404


class ConflictError(DomainError):
    """The write collides with an existing object (duplicate OGRN, group_id, ...)."""

    status_code = 409


class ForbiddenError(DomainError):
    """The caller may see the object but not change it."""

    status_code = 403


class PayloadTooLargeError(DomainError):
    """The request body, or what it unpacks to, is past a size limit."""

    status_code = 413


class InvalidInputError(DomainError):
    """A field value is unacceptable for a domain reason (checksum, unknown region, ...)."""

    status_code = 422


class UnavailableError(DomainError):
    """A dependency is down; the caller should retry later."""

    status_code = 503
