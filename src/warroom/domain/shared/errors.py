"""The errors the domain raises when it refuses a command.

Every entry point maps them the same way: ``ValidationError`` to a 4xx naming the field,
``NotFound`` to 404, ``InvalidTransition`` (and ``BrokenChain``) and ``ConcurrencyConflict`` to 409,
``CorruptTimeline`` to 500 (the stored data, not the request, is wrong).
"""

from __future__ import annotations

import math
from datetime import timedelta


class DomainError(Exception):
    """A command the domain refuses; the message is one line meant for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(DomainError):
    """Input that can never be right, whatever the state: names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message


class RateLimited(ValidationError):
    """Too many requests of one kind from one place: try again after ``retry_after``."""

    def __init__(self, field: str, message: str, retry_after: timedelta) -> None:
        super().__init__(field, message)
        self.retry_after = retry_after

    @property
    def retry_after_seconds(self) -> int:
        """Whole seconds, rounded up, at least one (an HTTP ``Retry-After``)."""
        return max(1, math.ceil(self.retry_after.total_seconds()))


class NotFound(DomainError):
    """The incident, ledger entry, mitigation or token does not exist."""


class InvalidTransition(DomainError):
    """The command is well formed but the incident's current state does not allow it."""


class ConcurrencyConflict(DomainError):
    """Someone else appended to the incident since it was loaded; retry on fresh state."""


class CorruptTimeline(DomainError):
    """A stored event no longer reads as an event warroom wrote: its row was changed
    outside warroom. The incident cannot be shown or changed until it is repaired."""

    def __init__(self, incident: int, seq: int, kind: str, problem: str) -> None:
        super().__init__(
            f"INC-{incident} event #{seq} ({kind}) cannot be read: {problem}; its stored row was "
            "changed outside warroom (see: warroom verify)"
        )
        self.incident = incident
        self.seq = seq
        self.kind = kind
        self.problem = problem


class BrokenChain(InvalidTransition):
    """The incident's hash chain no longer verifies (a stored event was changed outside
    warroom): nothing more is appended to it until it is repaired."""

    def __init__(self, incident: int, seq: int, kind: str, problem: str) -> None:
        super().__init__(
            f"INC-{incident}'s timeline is broken at event #{seq} ({kind}: {problem}); nothing "
            "more can be recorded on it until it is repaired (see: warroom verify)"
        )
        self.incident = incident
        self.seq = seq
        self.kind = kind
        self.problem = problem
