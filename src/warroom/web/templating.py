"""The Jinja2 environment of the web room: autoescaping on, undefined names are errors.

Built on first use (nothing happens at import). Filters format the JSON views' ISO times
and second counts for people; every time is shown in UTC and says so.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from warroom.domain.shared.timefmt import from_iso, human_duration
from warroom.web.wording import in_web_words

TEMPLATES = Path(__file__).parent / "templates"
_CANONICAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")  # domain.timefmt.iso

SECURITY_HEADERS = {
    # No inline script or style is used, so the policy can forbid them: an injected
    # <script> would not run even if escaping were ever missed.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _time(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    return value.astimezone(UTC) if isinstance(value, datetime) else from_iso(value)


def clock(value: str | datetime | None) -> str:
    """``2026-11-26 10:04:05Z``; a dash for an unknown time."""
    if isinstance(value, str) and _CANONICAL.match(value):  # the views' iso(): already UTC
        return f"{value[:10]} {value[11:19]}Z"
    at = _time(value)
    return at.strftime("%Y-%m-%d %H:%M:%SZ") if at else "—"


def short_clock(value: str | datetime | None) -> str:
    """``10:04:05``; the day is shown elsewhere."""
    if isinstance(value, str) and _CANONICAL.match(value):
        return value[11:19]
    at = _time(value)
    return at.strftime("%H:%M:%S") if at else "—"


def duration(seconds: float | None) -> str:
    return "—" if seconds is None else human_duration(timedelta(seconds=seconds))


def since(value: str | datetime | None, now: datetime) -> str:
    at = _time(value)
    return "—" if at is None else human_duration(now - at)


def time_tag(value: str | datetime | None) -> Markup:
    """A ``<time>`` element with the machine-readable time and the readable clock."""
    at = _time(value)
    if at is None:
        return Markup("—")
    return Markup('<time datetime="{}">{}</time>').format(at.isoformat(), clock(at))


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.3g}%"


def words(value: str | None) -> str:
    """``data_integrity`` to ``data integrity``."""
    return "" if value is None else str(value).replace("_", " ")


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "xml", "svg"], default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the package; no stat() per page
    )
    env.filters.update(
        clock=clock,
        short_clock=short_clock,
        duration=duration,
        time_tag=time_tag,
        percent=percent,
        words=words,
        web_words=in_web_words,
    )
    env.globals["since"] = since
    return env


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
