"""Tokens and idempotency records in SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from warroom.bootstrap import App
from warroom.domain.shared.errors import NotFound, ValidationError
from warroom.services.identity import auth
from warroom.services.ports.idempotency import StoredResponse

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


class StepClock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def app(database_url: str, clock: StepClock, build_app: Callable[..., App]) -> App:
    return build_app(database_url, clock=clock)


def test_a_created_token_authenticates_and_only_its_hash_is_stored(app: App) -> None:
    plain, info = auth.create_token(app.context, "alice", "responder")
    assert plain.startswith("wr_") and len(plain) > 40
    assert (info.name, info.role, info.created_at, info.revoked_at) == ("alice", "responder", T0, None)
    found = auth.authenticate(app.context, plain)
    assert found is not None and found.id == info.id
    with app.context.uow() as uow:
        stored = uow.tokens.by_hash(auth.hash_token(plain))
    assert stored is not None and stored[1] == auth.hash_token(plain) and plain not in stored[1]


def test_unknown_malformed_and_revoked_tokens_do_not_authenticate(app: App, clock: StepClock) -> None:
    plain, _ = auth.create_token(app.context, "bot", "viewer")
    assert auth.authenticate(app.context, "wr_nope") is None
    assert auth.authenticate(app.context, "") is None
    assert auth.authenticate(app.context, plain[3:]) is None
    assert auth.authenticate(app.context, plain + "x" * 500) is None
    clock.at = T0 + timedelta(minutes=5)
    revoked = auth.revoke_token(app.context, "bot")
    assert revoked.revoked_at == clock.at
    assert auth.authenticate(app.context, plain) is None


def test_a_token_name_is_unique_even_after_revocation(app: App) -> None:
    auth.create_token(app.context, "ci", "ingest", "generic")
    auth.revoke_token(app.context, "ci")
    with pytest.raises(ValidationError) as caught:
        auth.create_token(app.context, "ci", "viewer")
    assert caught.value.field == "name"


def test_roles_and_names_are_checked(app: App) -> None:
    with pytest.raises(ValidationError) as caught:
        auth.create_token(app.context, "x", "root")
    assert caught.value.field == "role"
    for bad in ("", "   ", "12", "a\nb", "n" * 121):
        with pytest.raises(ValidationError) as caught:
            auth.create_token(app.context, bad, "viewer")
        assert caught.value.field == "name"


def test_tokens_are_listed_and_revoked_by_name_or_id(app: App, clock: StepClock) -> None:
    _, first = auth.create_token(app.context, "one", "viewer")
    _, second = auth.create_token(app.context, "two", "admin")
    assert [t.name for t in auth.list_tokens(app.context)] == ["one", "two"]
    clock.at = T0 + timedelta(hours=1)
    auth.revoke_token(app.context, str(second.id))
    clock.at = T0 + timedelta(hours=2)
    again = auth.revoke_token(app.context, "two")
    assert again.revoked_at == T0 + timedelta(hours=1)
    with pytest.raises(NotFound):
        auth.revoke_token(app.context, "three")
    views = [auth.token_view(t) for t in auth.list_tokens(app.context)]
    assert [v["active"] for v in views] == [True, False]
    assert first.id != second.id


def test_last_used_is_written_at_most_once_a_minute(app: App, clock: StepClock) -> None:
    plain, _ = auth.create_token(app.context, "alice", "viewer")
    auth.authenticate(app.context, plain)
    clock.at = T0 + timedelta(seconds=30)
    auth.authenticate(app.context, plain)
    assert auth.list_tokens(app.context)[0].last_used_at == T0
    clock.at = T0 + timedelta(minutes=2)
    auth.authenticate(app.context, plain)
    assert auth.list_tokens(app.context)[0].last_used_at == clock.at


@pytest.mark.parametrize(
    ("role", "need", "allowed"),
    [
        ("viewer", "viewer", True),
        ("viewer", "responder", False),
        ("responder", "viewer", True),
        ("responder", "admin", False),
        ("admin", "responder", True),
        ("ingest", "viewer", False),
        ("ingest", "ingest", True),
        ("admin", "ingest", True),
        ("responder", "ingest", False),
        ("bogus", "viewer", False),
    ],
)
def test_roles_rank_viewer_responder_admin_and_ingest_stands_apart(
    role: str, need: str, allowed: bool
) -> None:
    assert auth.allows(role, need) is allowed


def _record(key: str, actor: str = "alice") -> StoredResponse:
    return StoredResponse(
        actor=actor,
        key=key,
        method="POST",
        path="/api/v1/incidents",
        request_hash="h",
        status=0,
        body="",
        created_at=T0,
    )


def test_an_idempotency_key_is_claimed_once_per_actor(app: App) -> None:
    with app.context.uow() as uow:
        assert uow.idempotency.reserve(_record("k1")) is None
        uow.commit()
    with app.context.uow() as uow:
        existing = uow.idempotency.reserve(_record("k1"))
        assert existing is not None and existing.status == 0
        assert uow.idempotency.reserve(_record("k1", actor="bob")) is None
        uow.idempotency.complete("alice", "k1", 201, '{"id": "INC-1"}')
        uow.commit()
    with app.context.uow() as uow:
        done = uow.idempotency.reserve(_record("k1"))
        assert done is not None and (done.status, done.body) == (201, '{"id": "INC-1"}')
        uow.idempotency.release("alice", "k1")
        uow.commit()
    with app.context.uow() as uow:
        assert uow.idempotency.reserve(_record("k1")) is None


def test_an_ingest_token_keeps_its_source_and_is_bound_by_it_or_by_its_name(app: App) -> None:
    _, explicit = auth.create_token(app.context, "prod", "ingest", " Grafana ")
    _, named = auth.create_token(app.context, "pagerduty-eu", "ingest")
    _, admin = auth.create_token(app.context, "alertmanager", "admin")
    with pytest.raises(ValidationError, match="an ingest token opens one webhook: give --source"):
        auth.create_token(app.context, "all-hooks", "ingest")
    stored = {t.name: t for t in auth.list_tokens(app.context)}
    assert set(stored) == {"prod", "pagerduty-eu", "alertmanager"}
    assert stored["prod"].source == explicit.source == "grafana"
    assert stored["pagerduty-eu"].source == "pagerduty"  # bound by its name, and recorded
    assert [auth.bound_source(stored[n]) for n in ("prod", "pagerduty-eu", "alertmanager")] == [
        "grafana",
        "pagerduty",
        None,
    ]
    assert auth.token_view(named)["source"] == "pagerduty" and admin.source is None


@pytest.mark.parametrize(
    ("role", "source", "message"),
    [
        ("ingest", "nagios", "'nagios' is not one of"),
        ("ingest", "x" * 500, "is not one of"),
        ("responder", "alertmanager", "only an ingest token"),
        ("admin", "changes", "only an ingest token"),
    ],
)
def test_a_token_source_is_checked_and_nothing_is_stored_when_it_is_wrong(
    app: App, role: str, source: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        auth.create_token(app.context, "t", role, source)
    assert refused.value.field == "source" and message in refused.value.message
    assert auth.list_tokens(app.context) == []
