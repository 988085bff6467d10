"""The errors the domain raises when it refuses a command.

Every entry point maps them the same way: ``ValidationError`` to a 4xx naming the field,
``NotFound`` to 404, ``InvalidTransition`` and ``ConcurrencyConflict`` to 409.
"""

from __future__ import annotations


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


class NotFound(DomainError):
    """The incident, ledger entry, mitigation or token does not exist."""


class InvalidTransition(DomainError):
    """The command is well formed but the incident's current state does not allow it."""


class ConcurrencyConflict(DomainError):
    """Someone else appended to the incident since it was loaded; retry on fresh state."""
