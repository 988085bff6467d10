"""Apps for identity tests: argon2's CHEAPEST profile (argon2-cffi's own advice for tests),
so a password check costs microseconds, not the 64 MiB and ~0.3 s it costs in production."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from warroom import bootstrap
from warroom.bootstrap import App
from warroom.settings import Settings

CHEAP = {"accounts": {"password_profile": "CHEAPEST"}}


def cheap_settings(database_url: str, **raw: Any) -> Settings:
    return Settings(database_url=database_url, raw={**CHEAP, **raw})


def cheap_app(database_url: str, clock: object | None = None, **raw: Any) -> App:
    return bootstrap.build(cheap_settings(database_url, **raw), clock=clock)


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'warroom.db'}"
