"""Validation of the free text people type into the room."""

from __future__ import annotations

from warroom.domain.shared.errors import ValidationError


def require_text(value: str | None, field: str, *, limit: int) -> str:
    """Strip ``value``; refuse it when empty, over ``limit`` characters, or holding NULs."""
    text = (value or "").strip()
    if not text:
        raise ValidationError(field, "is empty")
    if len(text) > limit:
        raise ValidationError(field, f"is {len(text)} characters; the limit is {limit}")
    if "\x00" in text:
        raise ValidationError(field, "contains a NUL character")
    return text


def optional_text(value: str | None, field: str, *, limit: int) -> str:
    """Like :func:`require_text`, but an empty value is allowed and returned as ``""``."""
    if value is None or not value.strip():
        return ""
    return require_text(value, field, limit=limit)
