"""The web room's own static files (stylesheet and scripts), from the package, cached."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import Response

STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {
    "warroom.css": "text/css; charset=utf-8",
    "room.js": "text/javascript; charset=utf-8",
    "postmortem.js": "text/javascript; charset=utf-8",
}


@cache
def _static_body(name: str) -> bytes:
    return (STATIC / name).read_bytes()


def static(name: str) -> Response:
    media = STATIC_TYPES.get(name)
    if media is None:
        return Response(status_code=404)
    return Response(
        _static_body(name),
        media_type=media,
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )
