"""Validation of the free text people type into the room."""

from __future__ import annotations

from warroom.domain.shared.errors import ValidationError

# What the edges say of a NUL and of a lone surrogate (webhook formats say it their way).
EDGE_WORDS = ("contains a NUL character", "is not valid Unicode (it contains a lone surrogate)")


def stored_size(text: str, words: tuple[str, str] = EDGE_WORDS) -> int | str:
    """The size of ``text`` in UTF-8, or why it cannot be stored (``words``: what to say
    of a NUL, then of a lone surrogate), worded to follow a field name.

    JSON and command lines can carry NUL (PostgreSQL text refuses it) and lone surrogates
    (no UTF-8 encoding exists, so hashing the event would fail): both are refused at the
    edge, naming the field, rather than failing as a 500 or a traceback further in.
    """
    if "\x00" in text:
        return words[0]
    if text.isascii():  # one byte per character, and no surrogates: skip the encode
        return len(text)
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return words[1]


def unstorable(text: str) -> str | None:
    """Why ``text`` cannot be stored, worded to follow a field name; None when it can."""
    found = stored_size(text)
    return found if isinstance(found, str) else None


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
