"""Sign-in with OpenID Connect against a real provider on 127.0.0.1: discovery, /authorize
(auto-approves the chosen user, redirects with code and state), /token (checks the code,
the redirect URI, the client secret and the PKCE verifier) and a JWKS; ID tokens signed
RS256 with joserfc. The app talks to it over real HTTP; the browser's redirects are
followed by hand (TestClient serves only the app)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from tests.conftest import dispose
from tests.identity.support import cheap_app, sqlite_url
from warroom.bootstrap import App
from warroom.domain.oncall.people import Person
from warroom.server import create_app
from warroom.services.identity import accounts

CLIENT_ID, CLIENT_SECRET = "warroom-test", "s3cret-of-the-client"
ALICE = {
    "sub": "u-1",
    "email": "alice@example.com",
    "email_verified": True,
    "name": "Alice A",
    "groups": ["ops-admins"],
}


class Provider:
    """A small OpenID provider: one signing key, codes kept in memory, used once."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
        self.forger = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
        self.user: dict[str, Any] = dict(ALICE)
        self.mode = "good"
        self.codes: dict[str, dict[str, str]] = {}
        self.token_calls = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {
            **self.user,
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
        }
        if self.mode == "expired":
            claims.update(iat=now - 3600, exp=now - 1800)
        elif self.mode == "audience":
            claims["aud"] = "someone-else"
        elif self.mode == "nonce":
            claims["nonce"] = "not-the-one-sent"
        key = self.forger if self.mode == "forged" else self.key
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/.well-known/openid-configuration":
                    self._json(200, provider.discovery())
                elif url.path == "/jwks":
                    self._json(200, KeySet([provider.key]).as_dict(private=False))
                elif url.path == "/authorize":
                    q = {k: v[0] for k, v in parse_qs(url.query).items()}
                    ok = (
                        q.get("client_id") == CLIENT_ID
                        and q.get("response_type") == "code"
                        and q.get("code_challenge_method") == "S256"
                        and "openid" in q.get("scope", "").split()
                    )
                    if not ok:
                        self._json(400, {"error": "invalid_request"})
                        return
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {
                        "challenge": q["code_challenge"],
                        "nonce": q.get("nonce", ""),
                        "redirect_uri": q["redirect_uri"],
                    }
                    target = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]})
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                provider.token_calls += 1
                size = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(size).decode()).items()}
                basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {basic}":
                    self._json(401, {"error": "invalid_client"})
                    return
                grant = provider.codes.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                digest = (
                    base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                )
                if (
                    grant is None
                    or form.get("grant_type") != "authorization_code"
                    or form.get("redirect_uri") != grant["redirect_uri"]
                    or digest != grant["challenge"]
                ):
                    self._json(400, {"error": "invalid_grant"})
                    return
                token = provider._id_token(grant["nonce"])
                self._json(
                    200, {"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": token}
                )

        return Handler

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    made = Provider()
    yield made
    made.server.shutdown()
    made.server.server_close()


@pytest.fixture(autouse=True)
def _reset(provider: Provider) -> None:
    provider.user, provider.mode = dict(ALICE), "good"


def _oidc(provider: Provider, **extra: Any) -> dict[str, Any]:
    return {
        "issuer": provider.issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "label": "Example SSO",
        "allowed_domains": ["example.com"],
        "roles": {"admin": ["ops-admins"], "responder": ["oncall"]},
        **extra,
    }


def _app(url: str, provider: Provider, **extra: Any) -> App:
    return cheap_app(url, secret_key="k" * 32, oidc=_oidc(provider, **extra))


def _to_provider(client: TestClient, next_path: str = "/incidents") -> str:
    started = client.get("/oidc/login", params={"next": next_path}, follow_redirects=False)
    assert started.status_code == 303, started.text
    return started.headers["location"]


def _authorize(location: str) -> str:
    """The browser at the provider: it approves and sends back to the app's callback."""
    answer = httpx.get(location, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    assert back.path == "/oidc/callback"
    return f"{back.path}?{back.query}"


def _sign_in(client: TestClient, next_path: str = "/incidents") -> httpx.Response:
    return client.get(_authorize(_to_provider(client, next_path)), follow_redirects=False)


def _counts(app: App) -> tuple[int, int]:
    with app.context.read() as uow:
        people = len(uow.oncall.people())
    return people, len(accounts.sessions(app.context))


def test_code_flow_signs_in_a_new_person_with_the_mapped_role(database_url: str, provider: Provider) -> None:
    app = _app(database_url, provider)
    try:
        client = TestClient(create_app(app))
        page = client.get("/login")
        assert "Sign in with Example SSO" in page.text
        location = _to_provider(client)
        query = parse_qs(urlsplit(location).query)
        assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
        done = client.get(_authorize(location), follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/incidents"
        account = client.get("/account")
        assert account.status_code == 200 and "alice" in account.text
        assert "its second factor applies" in account.text and "/account/totp" not in account.text
        with app.context.read() as uow:
            person = uow.oncall.person("alice")
            stored = uow.accounts.get("alice")
        assert person is not None and person.email == "alice@example.com" and person.name == "Alice A"
        assert stored is not None and stored.role == "admin"
        assert [s.handle for s in accounts.sessions(app.context)] == ["alice"]
        # no password signs this account in: only the provider does
        with pytest.raises(accounts.SignInRefused):
            accounts.sign_in(app.context, "alice", "!oidc", "127.0.0.1")
    finally:
        dispose(app)


def test_existing_person_is_matched_by_email_and_new_handles_are_unique(
    tmp_path: Any, provider: Provider
) -> None:
    app = _app(sqlite_url(tmp_path), provider)
    try:
        now = app.context.clock.now()
        with app.context.uow() as uow:
            uow.oncall.put_person(Person(handle="bob", name="Bob", email="Bob@Example.com"), now)
            uow.oncall.put_person(
                Person(handle="carol", name="Carol (other)", email="carol@elsewhere.org"), now
            )
            uow.commit()
        client = TestClient(create_app(app))
        provider.user = {**ALICE, "email": "bob@example.com", "groups": ["oncall"]}
        assert _sign_in(client).status_code == 303
        provider.user = {**ALICE, "email": "carol@example.com", "name": "Carol", "groups": []}
        assert _sign_in(TestClient(create_app(app))).status_code == 303
        with app.context.read() as uow:
            bob, carol = uow.accounts.get("bob"), uow.accounts.get("carol-2")
            carol_person = uow.oncall.person("carol-2")
            people = len(uow.oncall.people())
        assert bob is not None and bob.role == "responder"
        assert carol is not None and carol.role == "viewer"
        assert carol_person is not None and carol_person.email == "carol@example.com"
        assert people == 3
    finally:
        dispose(app)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, provider: Provider) -> Iterator[App]:
    app = _app(sqlite_url(tmp_path_factory.mktemp("oidc")), provider)
    yield app
    dispose(app)


@pytest.mark.parametrize(
    ("mode", "user", "said"),
    [
        ("forged", {}, "signature"),
        ("expired", {}, "expired"),
        ("audience", {}, "aud"),
        ("nonce", {}, "nonce"),
        ("good", {"email": "mallory@evil.example"}, "evil.example may not sign in"),
        ("good", {"email_verified": False}, "not verified"),
    ],
)
def test_bad_answers_are_refused_and_store_nothing(
    shared: App, provider: Provider, mode: str, user: dict[str, Any], said: str
) -> None:
    before = _counts(shared)
    provider.mode, provider.user = mode, {**ALICE, **user}
    client = TestClient(create_app(shared))
    refused = _sign_in(client)
    assert refused.status_code == 403, refused.text
    assert said in refused.text
    assert _counts(shared) == before
    assert client.get("/account", follow_redirects=False).status_code == 303  # still anonymous


def test_replayed_state_and_forged_callbacks_are_refused(shared: App, provider: Provider) -> None:
    web = create_app(shared)
    client = TestClient(web)
    location = _to_provider(client)
    flow_cookie = client.cookies.get("warroom_oidc")
    callback = _authorize(location)
    assert client.get(callback, follow_redirects=False).status_code == 303
    before = _counts(shared)
    # the same answer again: the flow cookie is gone
    again = client.get(callback, follow_redirects=False)
    assert again.status_code == 400 and "sign in again" in again.text
    # an attacker who kept the flow cookie replays it: the state was used
    thief = TestClient(web)
    thief.cookies.set("warroom_oidc", str(flow_cookie), path="/oidc")
    replayed = thief.get(callback, follow_redirects=False)
    assert replayed.status_code == 400 and "already used" in replayed.text
    # a state that is not this browser's, a tampered cookie, no code, a provider error
    other = TestClient(create_app(shared))
    _to_provider(other)
    wrong_state = other.get(
        "/oidc/callback?" + urlencode({"code": "x", "state": "y" * 5000}), follow_redirects=False
    )
    assert wrong_state.status_code == 400 and "state differs" in wrong_state.text
    tampered = TestClient(create_app(shared))
    tampered.cookies.set("warroom_oidc", "eyJzdGF0ZSI6ImEifQ.forged.sig", path="/oidc")
    assert tampered.get("/oidc/callback?code=x&state=a", follow_redirects=False).status_code == 400
    denied = TestClient(create_app(shared))
    state = parse_qs(urlsplit(_to_provider(denied)).query)["state"][0]
    said = denied.get(
        "/oidc/callback?"
        + urlencode({"state": state, "error": "access_denied", "error_description": "<b>no</b>"})
    )
    assert said.status_code == 403 and "&lt;b&gt;no&lt;/b&gt;" in said.text
    huge = TestClient(web)
    state = parse_qs(urlsplit(_to_provider(huge)).query)["state"][0]
    oversized = huge.get("/oidc/callback?" + urlencode({"state": state, "code": "c" * 5000}))
    assert oversized.status_code == 400 and "no code" in oversized.text
    assert _counts(shared) == before


def test_next_never_leaves_the_site(shared: App, provider: Provider) -> None:
    client = TestClient(create_app(shared))
    done = _sign_in(client, "https://evil.example/steal")
    assert done.status_code == 303 and done.headers["location"] == "/"


def test_unconfigured_or_misconfigured_oidc_is_a_clear_page(tmp_path: Any, provider: Provider) -> None:
    plain = cheap_app(sqlite_url(tmp_path))
    broken = _app(sqlite_url(tmp_path), provider, roles={"overlord": ["x"]})
    try:
        client = TestClient(create_app(plain))
        assert "Sign in with" not in client.get("/login").text
        assert client.get("/oidc/login").status_code == 404
        misconfigured = TestClient(create_app(broken)).get("/oidc/login")
        assert misconfigured.status_code == 500 and "overlord" in misconfigured.text
    finally:
        dispose(plain)
        dispose(broken)


@pytest.mark.browser
def test_chromium_signs_in_through_the_provider_and_the_login_page_fits(
    tmp_path: Any, provider: Provider
) -> None:
    """Real Chromium follows the redirects itself: /login, the button, the provider, back."""
    import os
    from pathlib import Path

    from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, running

    require_chromium()
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("WARROOM_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    app = _app(sqlite_url(tmp_path), provider)
    try:
        with running(create_app(app)) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                for width, height in ((390, 844), (1400, 900)):
                    page = browser.new_page(viewport={"width": width, "height": height})
                    page.goto(f"{base}/login?next=/account")
                    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
                    page.screenshot(path=str(shots / f"oidc-login-{width}.png"), full_page=True)
                    page.click("#oidc-login")
                    page.wait_for_url(f"{base}/account", timeout=5000)
                    assert "alice" in page.content()
                    page.screenshot(path=str(shots / f"oidc-account-{width}.png"), full_page=True)
                    page.context.close()
            finally:
                browser.close()
        assert {s.handle for s in accounts.sessions(app.context)} == {"alice"}
    finally:
        dispose(app)


def test_settings_are_checked_and_groups_map_to_the_highest_role() -> None:
    from warroom.domain.shared.errors import ValidationError
    from warroom.services.identity import oidc

    assert oidc.settings_of({}) is None and oidc.settings_of({"oidc": {"issuer": ""}}) is None
    good = {"issuer": "https://id.example.com/", "client_id": "c", "client_secret": "s"}
    config = oidc.settings_of({"oidc": {**good, "roles": {"admin": ["a"], "responder": ["r", "a2"]}}})
    assert config is not None and config.issuer == "https://id.example.com" and config.label == "SSO"
    assert oidc.role_for(config, ["r", "a"]) == "admin"
    assert oidc.role_for(config, ["a2"]) == "responder"
    assert oidc.role_for(config, ["nobody"]) == "viewer"
    bad: list[tuple[dict[str, Any], str]] = [
        ({**good, "issuer": "javascript:alert(1)"}, "oidc.issuer"),
        ({**good, "client_secret": ""}, "oidc.client_id"),
        ({**good, "roles": ["admin"]}, "oidc.roles"),
        ({**good, "roles": {"root": ["x"]}}, "oidc.roles"),
        ({**good, "roles": {"admin": "ops"}}, "oidc.roles.admin"),
        ({**good, "allowed_domains": "example.com"}, "oidc.allowed_domains"),
        ({**good, "default_role": "god"}, "oidc.default_role"),
        ({**good, "client_id": 7}, "oidc.client_id"),
    ]
    for table, field in bad:
        with pytest.raises(ValidationError) as caught:
            oidc.settings_of({"oidc": table})
        assert caught.value.field == field, table
