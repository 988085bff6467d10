"""Shared database fixtures: a per-test SQLite file, and a fresh PostgreSQL database.

PostgreSQL runs on 127.0.0.1:5432 (trust auth, user postgres) on development and CI
machines, or wherever ``WARROOM_TEST_POSTGRES_URL`` points. Each test gets its own
empty database under a name no other test used; afterwards it is emptied, renamed and
kept for a later test (dropped at the end of the session). When the server is unreachable the test skips with a
one-line reason, unless ``WARROOM_REQUIRE_ALL=1`` (CI), which makes it fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/"

# The Prometheus stack the demo-shop tests share (fixture ``promstack``).
pytest_plugins = ["tests.support.promstack"]


def _unavailable(reason: str) -> None:
    if os.environ.get("WARROOM_REQUIRE_ALL") == "1":
        pytest.fail(f"{reason} (WARROOM_REQUIRE_ALL=1)")
    pytest.skip(reason)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'warroom.db'}"


_SPARE: list[str] = []  # emptied databases waiting for their next test


def _admin_url() -> tuple[Any, str]:
    from sqlalchemy.engine import make_url

    base = make_url(os.environ.get("WARROOM_TEST_POSTGRES_URL") or DEFAULT_POSTGRES)
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    return base, admin


def _empty_and_rename(admin: str, base: Any, name: str) -> str | None:
    """Empty database ``name`` as if new, rename it, and return its new name (None: drop it).

    CREATE and DROP DATABASE cost 0.5 to 2.5 s each on a loaded machine (DROP waits for a
    checkpoint); dropping and recreating the public schema costs tens of milliseconds. The
    rename gives every test a database URL no earlier test used, so nothing cached by URL
    carries over.
    """
    import psycopg

    fresh = f"warroom_test_{uuid.uuid4().hex[:12]}"
    url = base.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
        schemas = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'"
        ).fetchall()
        if [row[0] for row in schemas] != ["public"]:
            return None
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
        conn.execute("GRANT ALL ON SCHEMA public TO PUBLIC")
    with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
        for _ in range(50):
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            try:
                conn.execute(f'ALTER DATABASE "{name}" RENAME TO "{fresh}"')
                return fresh
            except psycopg.errors.ObjectInUse:
                import time

                time.sleep(0.02)
    return None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database of its own (recycled: emptied and renamed)."""
    import psycopg

    base, admin = _admin_url()
    if _SPARE:
        name = _SPARE.pop()
    else:
        name = f"warroom_test_{uuid.uuid4().hex[:12]}"
        try:
            with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        except psycopg.OperationalError as exc:
            _unavailable(f"PostgreSQL unreachable at {base.host}:{base.port}: {str(exc).splitlines()[0]}")
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        spare = None
        try:
            spare = _empty_and_rename(admin, base, name)
        except psycopg.Error:
            spare = None
        if spare is None:
            with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            _SPARE.append(spare)


@pytest.fixture(scope="session", autouse=True)
def _drop_spare_databases() -> Iterator[None]:
    yield
    if not _SPARE:
        return
    import psycopg

    _, admin = _admin_url()
    with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
        while _SPARE:
            conn.execute(f'DROP DATABASE IF EXISTS "{_SPARE.pop()}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs twice: on SQLite and on PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param}_url"))


def dispose(app: Any) -> None:
    """Close the pooled connections of an App built by ``warroom.bootstrap.build``."""
    engine = getattr(app.context.uow, "args", (None,))[0]
    if engine is not None:
        engine.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the schema head, migrated once for the session."""
    from warroom.bootstrap import build
    from warroom.settings import Settings

    path = tmp_path_factory.mktemp("migrated") / "warroom.db"
    dispose(build(Settings(database_url=f"sqlite:///{path}")))
    return path


@pytest.fixture(scope="session")
def migrated_postgres_sql() -> str | None:
    """A PostgreSQL database at the schema head as SQL (``pg_dump``), made once for the
    session; None when ``pg_dump`` is missing or fails (the tests then migrate)."""
    import subprocess

    import psycopg

    from warroom.bootstrap import build
    from warroom.settings import Settings

    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        return None
    base, admin = _admin_url()
    name = f"warroom_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        return None  # the tests that need PostgreSQL say so themselves
    try:
        dispose(build(Settings(database_url=base.set(database=name).render_as_string(hide_password=False))))
        libpq = base.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
        dumped = subprocess.run(
            [pg_dump, "--no-owner", "--no-privileges", "--inserts", f"--dbname={libpq}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if dumped.returncode != 0:
        return None
    # Newer pg_dump writes psql meta-commands (\restrict); they are not SQL.
    return "\n".join(line for line in dumped.stdout.splitlines() if not line.startswith("\\"))


def _start_at_head(request: pytest.FixtureRequest, url: str) -> None:
    """Give a test database that is still empty the schema at head without migrating it:
    a SQLite file that does not exist yet becomes a copy of :func:`migrated_sqlite`, an
    empty PostgreSQL database gets :func:`migrated_postgres_sql`. The migrations run for
    every test cost 50 ms (SQLite) and 270 ms (PostgreSQL) each on an idle machine."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists() and path.parent.is_dir():
            shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
    elif url.startswith("postgresql") and (sql := request.getfixturevalue("migrated_postgres_sql")):
        import psycopg
        from sqlalchemy.engine import make_url

        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            with psycopg.connect(libpq, connect_timeout=3) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = 'public'"
                ).fetchone()
                if row is not None and row[0] == 0:
                    conn.execute(sql)  # one transaction, committed on leaving the block
        except psycopg.OperationalError:
            pass  # unreachable: build() says so in its own words


@pytest.fixture
def build_app(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """``build_app(url, clock=...)``: ``warroom.bootstrap.build``, disposed after the test.

    A database that is still empty starts at the schema head without running every
    migration (:func:`_start_at_head`); the schema is the same."""
    from warroom.bootstrap import build
    from warroom.settings import Settings

    built: list[Any] = []

    def make(url: str, **kwargs: Any) -> Any:
        if kwargs.get("migrate", True):
            _start_at_head(request, url)
        app = build(Settings(database_url=url), **kwargs)
        built.append(app)
        return app

    yield make
    for app in built:
        dispose(app)
