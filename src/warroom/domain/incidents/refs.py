"""Incident references as people type them: ``INC-7``, ``inc-7`` or ``7``."""

from __future__ import annotations

from warroom.domain.shared.errors import NotFound, ValidationError

# Incident numbers are 32-bit in storage; a larger one cannot exist.
MAX_NUMBER = 2_147_483_647


def parse_ref(ref: str | int) -> int:
    """``INC-7``, ``inc-7`` or ``7`` to 7; anything else is a clear error."""
    text = str(ref).strip().upper().removeprefix("INC-")
    if not (text.isascii() and text.isdecimal()) or len(text) > 12:
        raise ValidationError("incident", f"{ref!r} is not an incident id such as INC-7")
    number = int(text)
    if number > MAX_NUMBER:
        raise NotFound(f"no incident INC-{number}")
    return number
