"""PagerDuty-shaped integration keys of ingest tokens, on SQLite and PostgreSQL, and the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import typer
from sqlalchemy import inspect, select
from typer.testing import CliRunner

from warroom.bootstrap import App
from warroom.cli import tokens as token_cli
from warroom.domain.shared.errors import ValidationError
from warroom.services.identity import auth
from warroom.services.identity import integration_keys as keys
from warroom.storage.db import make_engine
from warroom.storage.tables import integration_keys, metadata

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
IMPORTED = "e93facc04764012d7bfb002500d5d1a6"


class Clock:
    def now(self) -> datetime:
        return T0


@pytest.fixture
def app(database_url: str, build_app: Callable[..., App]) -> App:
    return build_app(database_url, clock=Clock())


def _rows(app: App) -> list[tuple[str, str, str | None]]:
    engine = app.context.uow.args[0]
    with engine.connect() as connection:
        rows = connection.execute(
            select(integration_keys.c.hash, integration_keys.c.hint, integration_keys.c.service)
        )
        return [(row.hash, row.hint, row.service) for row in rows]


def test_imported_and_generated_keys_authenticate_and_only_their_hashes_are_stored(app: App) -> None:
    plain, info, made = keys.create_with_keys(
        app.context, "pd-prod", keys=[(IMPORTED, "checkout")], generate=2, service="payments"
    )
    assert (info.role, info.source) == ("ingest", "pagerduty")
    assert auth.authenticate(app.context, plain) is not None  # the token works as any ingest token
    [imported, *generated] = made
    assert imported[0] is None and all(key is not None and keys.is_key_shaped(key) for key, _ in generated)
    assert [(stored.hint, stored.service) for _, stored in made] == [
        ("d1a6", "checkout"),
        (str(generated[0][0])[-4:], "payments"),
        (str(generated[1][0])[-4:], "payments"),
    ]
    rows = _rows(app)
    assert [row[0] for row in rows] == [auth.hash_token(IMPORTED)] + [
        auth.hash_token(str(k)) for k, _ in generated
    ]
    assert not any(IMPORTED in str(row) for row in rows)
    found = keys.authenticate_key(app.context, IMPORTED)
    assert found is not None and (found.token.id, found.service) == (info.id, "checkout")
    other = keys.authenticate_key(app.context, str(generated[0][0]))
    assert other is not None and other.service == "payments"
    assert keys.authenticate_key(app.context, IMPORTED.upper()) is None
    assert keys.authenticate_key(app.context, plain) is None  # a token is not a key


def test_keys_are_listed_masked_with_their_service(app: App) -> None:
    auth.create_token(app.context, "ci", "responder")
    keys.create_with_keys(app.context, "pd-prod", keys=[(IMPORTED, None)], service="checkout")
    views = keys.token_views(app.context)
    assert [v["integration_keys"] for v in views] == [
        [],
        [{"key": "****d1a6", "service": "checkout", "created_at": "2026-11-26T10:00:00.000000Z"}],
    ]
    assert IMPORTED not in json.dumps(views)


def test_a_revoked_tokens_keys_stop_at_once(app: App) -> None:
    keys.create_with_keys(app.context, "pd-prod", keys=[(IMPORTED, "checkout")])
    auth.revoke_token(app.context, "pd-prod")
    assert keys.authenticate_key(app.context, IMPORTED) is None


def test_a_key_belongs_to_one_token_and_a_refused_creation_stores_nothing(app: App) -> None:
    keys.create_with_keys(app.context, "pd-one", keys=[(IMPORTED, "checkout")])
    with pytest.raises(ValidationError, match="ending in d1a6 is already stored"):
        keys.create_with_keys(app.context, "pd-two", keys=[(IMPORTED, "payments")], generate=1)
    with pytest.raises(ValidationError, match="the same key is given twice"):
        keys.create_with_keys(app.context, "pd-three", keys=[(IMPORTED, None), (IMPORTED, None)])
    with pytest.raises(ValidationError, match="at least one key"):
        keys.create_with_keys(app.context, "pd-four")
    assert [t.name for t in auth.list_tokens(app.context)] == ["pd-one"]
    assert len(_rows(app)) == 1


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (IMPORTED, (IMPORTED, None)),
        (f"checkout={IMPORTED}", (IMPORTED, "checkout")),
        (f" checkout = {IMPORTED} ", (IMPORTED, "checkout")),
    ],
)
def test_a_key_spec_is_key_or_service_equals_key(spec: str, expected: tuple[str, str | None]) -> None:
    assert keys.parse_key_spec(spec) == expected


@pytest.mark.parametrize(
    "spec", ["", "abc", IMPORTED + "0", "e93facc0-4764-012d-7bfb-002500d5d1a6", "é" * 32]
)
def test_a_key_that_pagerduty_would_not_accept_is_refused(spec: str) -> None:
    with pytest.raises(ValidationError) as refused:
        keys.parse_key_spec(spec)
    assert refused.value.field == "integration_key"


def test_the_migration_matches_the_table(app: App, database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        inspector = inspect(engine)
        table = metadata.tables["integration_keys"]
        columns = {c["name"]: c for c in inspector.get_columns(table.name)}
        assert list(columns) == [c.name for c in table.columns]
        for column in table.columns:
            assert columns[column.name]["nullable"] == column.nullable, column.name
        assert {"ix_integration_keys_token"} <= {i["name"] for i in inspector.get_indexes(table.name)}
    finally:
        engine.dispose()


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("version")(lambda: None)
    token_cli.register(app)
    return app


def test_token_create_imports_and_generates_keys_and_list_shows_them_masked(sqlite_url: str) -> None:
    env = {"WARROOM_DATABASE_URL": sqlite_url}
    runner = CliRunner()
    args = ["token", "create", "--role", "ingest", "--name", "pd-prod", "--source", "pagerduty"]
    args += ["--integration-key", f"checkout={IMPORTED}", "--new-integration-key", "--service", "payments"]
    created = runner.invoke(_cli(), args, env=env)
    assert created.exit_code == 0, created.output
    token, generated = created.stdout.split()
    assert token.startswith("wr_") and keys.is_key_shaped(generated)
    assert "****d1a6 -> checkout" in created.stderr and "(new) -> payments" in created.stderr
    table = runner.invoke(_cli(), ["token", "list"], env=env).stdout
    assert (
        "integration key ****d1a6 -> checkout" in table and IMPORTED not in table and generated not in table
    )
    listed = json.loads(runner.invoke(_cli(), ["token", "list", "--json"], env=env).stdout)
    assert [k["key"] for k in listed[0]["integration_keys"]] == ["****d1a6", "****" + generated[-4:]]
    as_json = runner.invoke(
        _cli(),
        ["token", "create", "--role", "ingest", "--name", "pd-2", "--new-integration-key", "--json"],
        env=env,
    )
    shown = json.loads(as_json.stdout)
    assert shown["source"] == "pagerduty" and shown["integration_keys"][0]["generated"] is True
    assert keys.is_key_shaped(shown["integration_keys"][0]["key"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "viewer", "--new-integration-key"], "only an ingest token for pagerduty"),
        (
            ["--role", "ingest", "--source", "grafana", "--new-integration-key"],
            "only an ingest token for pagerduty",
        ),
        (["--role", "ingest", "--integration-key", "not-a-key"], "must be 32 letters and digits"),
    ],
)
def test_token_create_refuses_keys_in_one_line(sqlite_url: str, args: list[str], message: str) -> None:
    result = CliRunner().invoke(
        _cli(), ["token", "create", "--name", "x", *args], env={"WARROOM_DATABASE_URL": sqlite_url}
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: integration_key: ") and message in result.stderr
    assert result.stderr.count("\n") == 1
