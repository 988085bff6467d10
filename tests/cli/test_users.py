"""``warroom user ...``: accounts, setup links, unlock, sessions, on the local database."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.conftest import dispose
from tests.identity.support import cheap_app
from warroom.services.identity import accounts

from .conftest import Cli

PASSWORD = "correct horse battery"


@pytest.fixture
def users(cli: Cli) -> Cli:
    with (cli.home / "warroom.toml").open("a") as config:
        config.write(
            '\n[accounts]\npassword_profile = "CHEAPEST"\n\n[notify]\nbase_url = "https://warroom.example"\n'
        )
    return cli


def test_user_add_prints_a_setup_link_and_the_person_joins_the_directory(users: Cli) -> None:
    result = users.run("user", "add", "alice", "--role", "responder", "--name", "Alice Liddell")
    assert result.exit_code == 0, result.output
    link = result.stdout.strip()
    assert link.startswith("https://warroom.example/setup/wsu_")
    assert "works once" in result.stderr
    listed = users.ok("user", "list", "--json")
    assert listed == [
        listed[0]
        | {
            "handle": "alice",
            "role": "responder",
            "password_set": False,
            "setup_pending": True,
            "locked": False,
        }
    ]
    people = users.ok("oncall", "person", "show", "alice", "--json")
    assert people["name"] == "Alice Liddell"


def test_sessions_unlock_and_revoke_through_the_cli(users: Cli) -> None:
    link = users.run("user", "add", "bob", "--role", "viewer").stdout.strip()
    app = cheap_app(users.url)
    try:
        accounts.set_password(app.context, link.rsplit("/", 1)[-1], PASSWORD, PASSWORD)
        assert accounts.sign_in(app.context, "bob", PASSWORD, "10.1.2.3").session
        sessions = users.ok("user", "sessions", "--json")
        assert [(s["handle"], s["address"]) for s in sessions] == [("bob", "10.1.2.3")]
        assert "revoked session" in users.ok("user", "revoke-session", str(sessions[0]["id"]))
        assert users.ok("user", "sessions", "bob", "--json") == []
        assert "no live session" in users.refused("user", "revoke-session", str(sessions[0]["id"]))
        with app.context.uow() as uow:  # as after LOCK_AFTER failures (tests/identity counts them)
            found = uow.accounts.get("bob")
            assert found is not None
            uow.accounts.save(replace(found, failures=accounts.LOCK_AFTER, locked_at=found.created_at))
            uow.commit()
        assert "locked" in users.ok("user", "list")
        assert "unlocked 'bob'" in users.ok("user", "unlock", "bob")
        assert users.ok("user", "list", "--json")[0]["failures"] == 0
        assert "'bob' is now admin" in users.ok("user", "role", "bob", "admin")
        new = users.ok("user", "setup-link", "bob").strip()
        assert new.startswith("https://warroom.example/setup/wsu_") and new != link
    finally:
        dispose(app)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("user", "add", "alice", "--role", "root"), "is not one of viewer, responder, admin"),
        (("user", "add", "Alice", "--role", "viewer"), "is not a handle"),
        (("user", "add", "ålice\u202e", "--role", "viewer"), "is not a handle"),
        (("user", "add", "a" * 5000, "--role", "viewer"), "is not a handle"),
        (("user", "add", "carol", "--role", "viewer", "--email", "not-an-address"), "not an email address"),
        (("user", "unlock", "nobody"), "no account 'nobody'"),
        (("user", "role", "nobody", "admin"), "no account 'nobody'"),
        (("user", "setup-link", "nobody"), "no account 'nobody'"),
    ],
)
def test_bad_user_commands_are_one_clear_line_and_write_nothing(
    users: Cli, args: tuple[str, ...], problem: str
) -> None:
    assert problem in users.refused(*args)
    assert users.ok("user", "list", "--json") == []
