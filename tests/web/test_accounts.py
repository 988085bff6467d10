"""Local accounts in the web: the setup link, sign-in with a password (and a TOTP code),
the lock and rate limits with their clear pages, sign-out ending the server session."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient

from tests.conftest import dispose
from tests.identity.support import cheap_app, sqlite_url
from warroom.bootstrap import App
from warroom.services import operations as ops
from warroom.services.identity import accounts

from .conftest import csrf_of, web_app

PASSWORD = "correct horse battery"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    built = cheap_app(sqlite_url(tmp_path))
    yield built
    dispose(built)


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with TestClient(web_app(app), follow_redirects=False) as test_client:
        yield test_client


def _setup(client: TestClient, app: App, handle: str = "alice", role: str = "responder") -> None:
    _, secret = accounts.add_user(app.context, handle, role, name="Alice Liddell")
    page = client.get(f"/setup/{secret}")
    assert page.status_code == 200 and handle in page.text
    done = client.post(
        f"/setup/{secret}", data={"csrf_token": csrf_of(page.text), "password": PASSWORD, "again": PASSWORD}
    )
    assert done.status_code == 200 and "Your password is set" in done.text


def _sign_in(client: TestClient, handle: str, password: str, next_: str = "/") -> object:
    page = client.get("/login")
    return client.post(
        "/login/password",
        data={"csrf_token": csrf_of(page.text), "handle": handle, "password": password, "next": next_},
    )


def test_the_setup_link_sets_a_password_once_then_sign_in_names_the_person(
    client: TestClient, app: App
) -> None:
    _, secret = accounts.add_user(app.context, "alice", "responder", name="Alice Liddell")
    page = client.get(f"/setup/{secret}")
    form = {"csrf_token": csrf_of(page.text), "password": PASSWORD, "again": PASSWORD}
    assert client.post(f"/setup/{secret}", data=form).status_code == 200
    again = client.post(f"/setup/{secret}", data=form)
    assert again.status_code == 404 and "unknown, used or expired" in again.text
    answer = _sign_in(client, "alice", PASSWORD, "/incidents/INC-1")
    assert answer.status_code == 303 and answer.headers["location"] == "/incidents/INC-1"  # type: ignore[attr-defined]
    assert PASSWORD not in answer.headers["set-cookie"]  # type: ignore[attr-defined]
    home = client.get("/")
    assert home.status_code == 200 and "alice" in home.text


def test_an_event_recorded_through_a_signed_in_session_names_the_person(client: TestClient, app: App) -> None:
    _setup(client, app)
    _sign_in(client, "alice", PASSWORD)
    page = client.get("/")
    answer = client.post(
        "/incidents",
        data={
            "csrf_token": csrf_of(page.text),
            "title": "Checkout errors",
            "services": "checkout",
            "customer_impact": "12%",
        },
    )
    assert answer.status_code == 303, answer.text
    ref = answer.headers["location"].rsplit("/", 1)[-1]
    assert {e["actor"] for e in ops.timeline(app.context, ref)} == {"alice"}
    assert "alice" in client.get(answer.headers["location"]).text


@pytest.mark.parametrize(
    ("password", "again", "problem"),
    [
        ("short", "short", "shorter than 12"),
        ("x" * 2000, "x" * 2000, "longer than 1024"),
        ("twelve chars\x00!", "twelve chars\x00!", "control characters"),
        (PASSWORD, PASSWORD + "!", "differ"),
    ],
)
def test_a_bad_new_password_is_refused_with_the_reason_and_the_link_still_works(
    client: TestClient, app: App, password: str, again: str, problem: str
) -> None:
    _, secret = accounts.add_user(app.context, "alice", "viewer")
    page = client.get(f"/setup/{secret}")
    answer = client.post(
        f"/setup/{secret}", data={"csrf_token": csrf_of(page.text), "password": password, "again": again}
    )
    assert answer.status_code == 422 and problem in answer.text
    assert client.get(f"/setup/{secret}").status_code == 200


@pytest.mark.parametrize("secret", ["wsu_nope", "x" * 5000, "wsu_%00", "wsu_\u202eévil"])
def test_unknown_or_hostile_setup_links_get_a_clear_404(client: TestClient, secret: str) -> None:
    answer = client.get(f"/setup/{secret}")
    assert answer.status_code == 404 and "setup link" in answer.text


def test_a_wrong_password_is_refused_and_the_lock_has_a_clear_page(client: TestClient, app: App) -> None:
    _setup(client, app)
    wrong = _sign_in(client, "alice", "not the password")
    assert wrong.status_code == 401 and "Wrong handle or password" in wrong.text  # type: ignore[attr-defined]
    with app.context.uow() as uow:  # four earlier failures, spread over time
        found = uow.accounts.get("alice")
        assert found is not None
        from dataclasses import replace

        uow.accounts.save(replace(found, failures=accounts.LOCK_AFTER - 1))
        uow.commit()
    client.cookies.clear()
    locked = _sign_in(client, "alice", "still not it")
    assert locked.status_code == 423  # type: ignore[attr-defined]
    assert "locked after 5 failed sign-ins" in locked.text and "warroom user unlock alice" in locked.text  # type: ignore[attr-defined]
    assert _sign_in(client, "alice", PASSWORD).status_code == 423  # type: ignore[attr-defined]
    accounts.unlock(app.context, "alice")
    assert _sign_in(client, "alice", PASSWORD).status_code == 303  # type: ignore[attr-defined]


def test_too_many_failures_from_one_address_answer_429(client: TestClient, app: App) -> None:
    for n in range(accounts.ADDRESS_LIMIT):
        assert _sign_in(client, f"guess{n}", PASSWORD).status_code == 401  # type: ignore[attr-defined]
    answer = _sign_in(client, "guess-more", PASSWORD)
    assert answer.status_code == 429 and "from your address" in answer.text  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("handle", "password"),
    [
        ("ålice\u202e", PASSWORD),
        ("alice\x00", PASSWORD),
        ("a" * 10_000, PASSWORD),
        ("alice", "p" * 100_000),
        ("", ""),
    ],
)
def test_hostile_sign_in_input_is_a_plain_refusal(
    client: TestClient, app: App, handle: str, password: str
) -> None:
    _setup(client, app)
    answer = _sign_in(client, handle, password)
    assert answer.status_code == 401 and "Wrong handle or password" in answer.text  # type: ignore[attr-defined]
    assert "\u202e" not in answer.text  # type: ignore[attr-defined]


def test_sign_out_ends_the_server_session(client: TestClient, app: App) -> None:
    _setup(client, app)
    _sign_in(client, "alice", PASSWORD)
    stolen = dict(client.cookies)
    assert len(accounts.sessions(app.context, "alice")) == 1
    out = client.post("/logout", data={"csrf_token": csrf_of(client.get("/").text)})
    assert out.status_code == 303
    assert accounts.sessions(app.context, "alice") == []
    client.cookies.clear()
    for name, value in stolen.items():  # the old cookie, replayed, opens nothing
        client.cookies.set(name, value)
    assert client.get("/").status_code == 303


def test_a_revoked_session_is_sent_back_to_sign_in(client: TestClient, app: App) -> None:
    _setup(client, app)
    _sign_in(client, "alice", PASSWORD)
    assert client.get("/").status_code == 200
    accounts.revoke_session(app.context, accounts.sessions(app.context)[0].id)
    assert client.get("/").status_code == 303


def test_totp_enrolment_on_the_account_page_then_sign_in_asks_for_the_code(
    client: TestClient, app: App
) -> None:
    _setup(client, app)
    _sign_in(client, "alice", PASSWORD)
    page = client.get("/account")
    assert page.status_code == 200 and "Set up a second factor" in page.text
    enrol = client.post("/account/totp", data={"csrf_token": csrf_of(page.text)})
    assert enrol.status_code == 200 and "<svg" in enrol.text and "otpauth://totp/warroom:alice" in enrol.text
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', enrol.text)
    assert secret is not None
    totp = pyotp.TOTP(secret.group(1))
    bad = client.post("/account/totp/confirm", data={"csrf_token": csrf_of(enrol.text), "code": "12345x"})
    assert bad.status_code == 422 and "not the current code" in bad.text
    on = client.post("/account/totp/confirm", data={"csrf_token": csrf_of(enrol.text), "code": totp.now()})
    assert on.status_code == 200 and "Second factor on" in on.text
    client.post("/logout", data={"csrf_token": csrf_of(on.text)})

    first = _sign_in(client, "alice", PASSWORD)
    assert first.status_code == 303 and first.headers["location"].startswith("/login/code")  # type: ignore[attr-defined]
    assert client.get("/").status_code == 303  # not signed in until the code
    form = client.get(first.headers["location"])  # type: ignore[attr-defined]
    assert form.status_code == 200 and "authenticator app" in form.text
    wrong = client.post(
        "/login/code",
        data={
            "csrf_token": csrf_of(form.text),
            "code": "000000" if totp.now() != "000000" else "111111",
            "next": "/",
        },
    )
    assert wrong.status_code == 401 and "Wrong or already used code" in wrong.text
    # the code of the enrolment was used once already: wait for the next step's code
    right = client.post(
        "/login/code",
        data={"csrf_token": csrf_of(form.text), "code": totp.at(time.time() + 30), "next": "/"},
    )
    assert right.status_code == 303 and right.headers["location"] == "/"
    assert client.get("/").status_code == 200


def test_the_code_page_without_a_password_step_goes_back_to_sign_in(client: TestClient) -> None:
    assert client.get("/login/code").status_code == 303
    page = client.get("/login")
    answer = client.post("/login/code", data={"csrf_token": csrf_of(page.text), "code": "123456"})
    assert answer.status_code == 403 and "sign in again" in answer.text
