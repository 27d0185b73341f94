"""Errors a request can meet in the store, each naming the field to correct.

The API answers them as problem+json (`NotFound` 404, `Conflict` 409, any other `FieldError`
422) and the CLI prints `field: message`; neither shows a stack trace.
"""

from __future__ import annotations


class FieldError(ValueError):
    """A request that cannot be carried out; `field` names what to correct."""

    status = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFound(FieldError):
    """The thing the request names does not exist (or is outside the caller's reach)."""

    status = 404


class Conflict(FieldError):
    """The request is well formed but the thing is not in a state that allows it."""

    status = 409
