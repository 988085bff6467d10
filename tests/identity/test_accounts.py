"""Local accounts on SQLite and PostgreSQL: the setup link, argon2 passwords, the lock and
rate limits, the TOTP second factor and server-side sessions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from tests.conftest import dispose
from tests.identity.support import cheap_app
from warroom.bootstrap import App
from warroom.domain.shared.errors import NotFound, ValidationError
from warroom.services.identity import accounts
from warroom.services.identity.accounts import SignInRefused

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


class StepClock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def app(database_url: str, clock: StepClock) -> Iterator[App]:
    built = cheap_app(database_url, clock)
    yield built
    dispose(built)


@pytest.fixture
def lite(sqlite_url: str, clock: StepClock) -> Iterator[App]:
    """SQLite only: for the many-input checks that storage does not change."""
    built = cheap_app(sqlite_url, clock)
    yield built
    dispose(built)


def _ready(app: App, handle: str = "alice", role: str = "responder") -> None:
    _, secret = accounts.add_user(app.context, handle, role, name="Alice Liddell")
    accounts.set_password(app.context, secret, PASSWORD, PASSWORD)


def test_a_new_user_is_a_person_of_the_directory_with_a_one_time_setup_link(app: App) -> None:
    account, secret = accounts.add_user(
        app.context, "alice", "responder", name="Alice Liddell", email="a@x.org"
    )
    assert secret.startswith("wsu_") and account.password_hash is None
    with app.context.read() as uow:
        person = uow.oncall.person("alice")
        stored = uow.accounts.get("alice")
    assert person is not None and (person.name, person.email) == ("Alice Liddell", "a@x.org")
    assert stored is not None and stored.setup_hash is not None and secret not in stored.setup_hash
    done = accounts.set_password(app.context, secret, PASSWORD, PASSWORD)
    assert done.password_hash is not None and done.password_hash.startswith("$argon2id$")
    with pytest.raises(NotFound, match="unknown, used or expired"):
        accounts.set_password(app.context, secret, PASSWORD, PASSWORD)


def test_an_existing_person_keeps_their_directory_record(app: App) -> None:
    _ready(app, "bob")
    with pytest.raises(ValidationError, match="already has an account"):
        accounts.add_user(app.context, "bob", "viewer")


def test_the_setup_link_expires(app: App, clock: StepClock) -> None:
    _, secret = accounts.add_user(app.context, "alice", "viewer")
    clock.at += timedelta(hours=accounts.SETUP_HOURS, seconds=1)
    with pytest.raises(NotFound):
        accounts.set_password(app.context, secret, PASSWORD, PASSWORD)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "shorter than 12"),
        ("x" * 1025, "longer than 1024"),
        ("twelve chars\x00!", "control characters"),
        (" " * 14, "only spaces"),
    ],
)
def test_bad_passwords_are_refused_and_nothing_is_stored(lite: App, password: str, problem: str) -> None:
    _, secret = accounts.add_user(lite.context, "alice", "viewer")
    with pytest.raises(ValidationError, match=problem):
        accounts.set_password(lite.context, secret, password, password)
    assert accounts.setup_account(lite.context, secret).password_hash is None


@pytest.mark.parametrize("handle", ["Alice", "al ice", "ålice", "a" * 65, "", "x\x00"])
def test_handles_outside_the_directory_grammar_are_refused(lite: App, handle: str) -> None:
    with pytest.raises(ValidationError, match="handle"):
        accounts.add_user(lite.context, handle, "viewer")
    assert accounts.users(lite.context) == []


def test_sign_in_starts_a_server_side_session_that_sign_out_ends(app: App) -> None:
    _ready(app)
    signed = accounts.sign_in(app.context, "alice", PASSWORD, "10.0.0.1")
    assert signed.session is not None and not signed.second_factor
    live = accounts.session_of(app.context, signed.session)
    assert live is not None and live[1].handle == "alice" and live[0].address == "10.0.0.1"
    assert [s.handle for s in accounts.sessions(app.context)] == ["alice"]
    accounts.end_session(app.context, signed.session)
    assert accounts.session_of(app.context, signed.session) is None
    assert accounts.sessions(app.context) == []


def test_sessions_expire_and_can_be_revoked(app: App, clock: StepClock) -> None:
    _ready(app)
    first = accounts.sign_in(app.context, "alice", PASSWORD, "a").session
    second = accounts.sign_in(app.context, "alice", PASSWORD, "b").session
    assert first and second
    one = accounts.sessions(app.context, "alice")[0]
    assert accounts.revoke_session(app.context, one.id) and not accounts.revoke_session(app.context, one.id)
    assert accounts.session_of(app.context, first) is None and accounts.session_of(app.context, second)
    clock.at += timedelta(hours=accounts.SESSION_HOURS)
    assert accounts.session_of(app.context, second) is None


def test_a_wrong_password_and_an_unknown_handle_get_the_same_answer(app: App) -> None:
    _ready(app)
    for handle, password in (("alice", "wrong password!"), ("nobody", PASSWORD), ("alice", "x" * 5000)):
        with pytest.raises(SignInRefused, match="Wrong handle or password") as refused:
            accounts.sign_in(app.context, handle, password, f"10.0.0.{len(password)}")
        assert refused.value.status == 401


def test_repeated_failures_lock_the_account_until_an_admin_unlocks_it(app: App, clock: StepClock) -> None:
    _ready(app)
    for _ in range(accounts.LOCK_AFTER - 1):
        with pytest.raises(SignInRefused, match="Wrong"):
            accounts.sign_in(app.context, "alice", "not the password", "10.0.0.1")
        clock.at += timedelta(seconds=61)
    with pytest.raises(SignInRefused, match="locked after 5 failed sign-ins") as locked:
        accounts.sign_in(app.context, "alice", "not the password", "10.0.0.1")
    assert locked.value.status == 423 and "warroom user unlock alice" in locked.value.message
    clock.at += timedelta(hours=1)
    with pytest.raises(SignInRefused, match="locked"):  # even the right password
        accounts.sign_in(app.context, "alice", PASSWORD, "10.0.0.1")
    accounts.unlock(app.context, "alice")
    assert accounts.sign_in(app.context, "alice", PASSWORD, "10.0.0.1").session


def test_a_locked_account_s_sessions_stop_working(app: App, clock: StepClock) -> None:
    _ready(app)
    live = accounts.sign_in(app.context, "alice", PASSWORD, "a").session
    assert live is not None
    for _ in range(accounts.LOCK_AFTER):
        with pytest.raises(SignInRefused):
            accounts.sign_in(app.context, "alice", "not the password", "b")
        clock.at += timedelta(seconds=61)
    assert accounts.session_of(app.context, live) is None


def test_rate_limits_per_account_and_per_address(app: App, clock: StepClock) -> None:
    _ready(app)
    for _ in range(accounts.ACCOUNT_LIMIT):
        with pytest.raises(SignInRefused, match="Wrong"):
            accounts.sign_in(app.context, "alice", "not the password", "10.0.0.1")
    with pytest.raises(SignInRefused, match="wait a minute") as slow:
        accounts.sign_in(app.context, "alice", PASSWORD, "10.0.0.2")
    assert slow.value.status == 429
    clock.at += timedelta(seconds=61)
    for n in range(accounts.ADDRESS_LIMIT - accounts.ACCOUNT_LIMIT):
        with pytest.raises(SignInRefused, match="Wrong"):
            accounts.sign_in(app.context, f"guess{n}", PASSWORD, "10.0.0.1")
    with pytest.raises(SignInRefused, match="from your address") as many:
        accounts.sign_in(app.context, "alice", PASSWORD, "10.0.0.1")
    assert many.value.status == 429
    assert accounts.sign_in(app.context, "alice", PASSWORD, "10.0.0.9").session  # another address


def test_totp_enrolment_then_every_sign_in_asks_for_a_code_used_once(app: App, clock: StepClock) -> None:
    _ready(app)
    secret, uri = accounts.begin_totp(app.context, "alice")
    assert uri.startswith("otpauth://totp/warroom:alice?") and secret in uri
    with pytest.raises(ValidationError, match="not the current code"):
        accounts.confirm_totp(
            app.context, "alice", "000000" if pyotp.TOTP(secret).at(clock.at) != "000000" else "111111"
        )
    accounts.confirm_totp(app.context, "alice", pyotp.TOTP(secret).at(clock.at))
    clock.at += timedelta(seconds=30)
    signed = accounts.sign_in(app.context, "alice", PASSWORD, "a")
    assert signed.second_factor
    code = pyotp.TOTP(secret).at(clock.at)
    session = accounts.second_factor(app.context, "alice", code, "a")
    assert accounts.session_of(app.context, session) is not None
    with pytest.raises(SignInRefused, match="already used"):
        accounts.second_factor(app.context, "alice", code, "a")


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "١٢٣٤٥٦", "12345\x00", "9" * 5000])
def test_malformed_and_wrong_totp_codes_are_refused_and_counted(lite: App, code: str) -> None:
    _ready(lite)
    secret, _ = accounts.begin_totp(lite.context, "alice")
    accounts.confirm_totp(
        lite.context, "alice", pyotp.TOTP(secret).now() if False else pyotp.TOTP(secret).at(T0)
    )
    with pytest.raises(SignInRefused, match="Wrong or already used code"):
        accounts.second_factor(lite.context, "alice", code, "a")
    assert [a.failures for a in accounts.users(lite.context)] == [1]
