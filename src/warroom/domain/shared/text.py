"""Validation of the free text people type into the room."""

from __future__ import annotations

from warroom.domain.shared.errors import ValidationError


def unstorable(text: str) -> str | None:
    """Why ``text`` cannot be stored, worded to follow a field name; None when it can.

    JSON and command lines can carry NUL (PostgreSQL text refuses it) and lone surrogates
    (no UTF-8 encoding exists, so hashing the event would fail): both are refused at the
    edge, naming the field, rather than failing as a 500 or a traceback further in.
    """
    if "\x00" in text:
        return "contains a NUL character"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "is not valid Unicode (it contains a lone surrogate)"
    return None


def require_text(value: str | None, field: str, *, limit: int) -> str:
    """Strip ``value``; refuse it when empty, over ``limit`` characters, or unstorable."""
    text = (value or "").strip()
    if not text:
        raise ValidationError(field, "is empty")
    if len(text) > limit:
        raise ValidationError(field, f"is {len(text)} characters; the limit is {limit}")
    problem = unstorable(text)
    if problem is not None:
        raise ValidationError(field, problem)
    return text


def optional_text(value: str | None, field: str, *, limit: int) -> str:
    """Like :func:`require_text`, but an empty value is allowed and returned as ``""``."""
    if value is None or not value.strip():
        return ""
    return require_text(value, field, limit=limit)
