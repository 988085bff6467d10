"""Shared database fixtures: a per-test SQLite file, and a fresh PostgreSQL database.

PostgreSQL runs on 127.0.0.1:5432 (trust auth, user postgres) on development and CI
machines, or wherever ``WARROOM_TEST_POSTGRES_URL`` points. Each test gets its own
database, dropped afterwards. When the server is unreachable the test skips with a
one-line reason, unless ``WARROOM_REQUIRE_ALL=1`` (CI), which makes it fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/"


def _unavailable(reason: str) -> None:
    if os.environ.get("WARROOM_REQUIRE_ALL") == "1":
        pytest.fail(f"{reason} (WARROOM_REQUIRE_ALL=1)")
    pytest.skip(reason)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'warroom.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(os.environ.get("WARROOM_TEST_POSTGRES_URL") or DEFAULT_POSTGRES)
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    name = f"warroom_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        _unavailable(f"PostgreSQL unreachable at {base.host}:{base.port}: {str(exc).splitlines()[0]}")
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs twice: on SQLite and on PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param}_url"))


def dispose(app: Any) -> None:
    """Close the pooled connections of an App built by ``warroom.bootstrap.build``."""
    engine = getattr(app.context.uow, "args", (None,))[0]
    if engine is not None:
        engine.dispose()


@pytest.fixture
def build_app() -> Iterator[Callable[..., Any]]:
    """``build_app(url, clock=...)``: ``warroom.bootstrap.build``, disposed after the test."""
    from warroom.bootstrap import build
    from warroom.settings import Settings

    built: list[Any] = []

    def make(url: str, **kwargs: Any) -> Any:
        app = build(Settings(database_url=url), **kwargs)
        built.append(app)
        return app

    yield make
    for app in built:
        dispose(app)
