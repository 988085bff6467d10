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


# Bidirectional overrides and isolates reorder what a terminal shows ("Trojan source").
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _hidden(ch: str) -> bool:
    code = ord(ch)
    return (code < 0x20 and ch not in "\n\t") or 0x7F <= code <= 0x9F or ch in _BIDI


def visible(text: str) -> str:
    """``text`` with every control character a terminal would act on written out
    (``\\x1b``, ``\\u202e``): what people typed or alerts sent is shown, never obeyed.
    The stored text stays as received; this is for human output only."""
    if text.isprintable() or not any(_hidden(ch) for ch in text):
        return text
    return "".join(
        (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}") if _hidden(ch) else ch
        for ch in text
    )


def json_safe(text: str) -> str:
    """JSON text with the characters JSON leaves raw (DEL, C1 controls, bidi controls)
    escaped as ``\\uXXXX``: still the same JSON, harmless on a terminal."""
    return "".join(f"\\u{ord(ch):04x}" if _hidden(ch) and ch not in "\n\t" else ch for ch in text)


def visible_all(value: object) -> object:
    """A JSON-like view with every string made :func:`visible` (dicts and lists walked)."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {key: visible_all(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [visible_all(item) for item in value]
    return value
