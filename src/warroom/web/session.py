"""Web sessions: a signed cookie naming the logged-in token or account session, and a CSRF
token per session.

The cookie holds ``{"csrf": ..., "token": <token id or null>, "sid": <account session
secret or null>, "mfa": <handle whose TOTP code is due, or null>, "mfa_at": <when>}``,
signed (not encrypted)
with itsdangerous and a secret key, and expires after ``MAX_AGE``. It never holds the
token's secret. On every request the token is looked up again by id, and an account's
session by its secret's hash (``services.identity.accounts``: server-side, expiring,
revocable), so revoking either, or changing a role, takes effect on the next page.

Every visitor gets a session, logged in or not, so even the login form carries a CSRF
token; logging in issues a new session (and a new CSRF token) so a session planted
before login is worthless after it.

The secret key is ``secret_key`` in ``warroom.toml``. Without it, a random key is made
once per process and kept on the ASGI app's state: sessions then end when the process
restarts and are not shared between replicas, so set it when running more than one.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from dataclasses import dataclass
from typing import Any, cast

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from warroom.bootstrap import App
from warroom.domain.shared.errors import NotFound
from warroom.services.identity import accounts, auth

COOKIE = "warroom_session"
MAX_AGE = 12 * 3600
SALT = "warroom.web.session"
CSRF_FIELD = "csrf_token"
_SECRET_ATTR = "warroom_web_secret"
_secret_lock = threading.Lock()


MFA_SECONDS = 300  # how long a password accepted waits for its TOTP code


@dataclass(frozen=True)
class Session:
    csrf: str
    token_id: int | None = None
    sid: str | None = None  # the account session's secret (only its hash is stored)
    mfa: str | None = None  # the handle whose password was accepted, TOTP code due
    mfa_at: float = 0.0


@dataclass(frozen=True)
class User:
    """The person behind the session: ``name`` is the actor on every event (the account's
    handle, or the token's name for a session made from a pasted token)."""

    name: str
    role: str
    token_id: int | None = None
    session_id: int | None = None  # an account's server-side session

    @property
    def can_write(self) -> bool:
        return auth.allows(self.role, "responder")


def app_of(request: Request) -> App:
    return cast(App, request.app.state.warroom)


def secret_key(request: Request) -> str:
    configured = app_of(request).settings.raw.get("secret_key")
    if isinstance(configured, str) and configured:
        return configured
    state = request.app.state
    with _secret_lock:
        generated = getattr(state, _SECRET_ATTR, None)
        if generated is None:
            generated = secrets.token_urlsafe(32)
            setattr(state, _SECRET_ATTR, generated)
    return cast(str, generated)


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(request), salt=SALT)


def new_session(token_id: int | None = None, sid: str | None = None) -> Session:
    return Session(csrf=secrets.token_urlsafe(24), token_id=token_id, sid=sid)


def awaiting_code(handle: str, now: float) -> Session:
    """A new session whose password was accepted for ``handle`` and whose TOTP code is due."""
    return Session(csrf=secrets.token_urlsafe(24), mfa=handle, mfa_at=now)


def load(request: Request) -> Session | None:
    """The request's session, or None when absent, tampered with or expired."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data: Any = _serializer(request).loads(raw, max_age=MAX_AGE)
    except BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
        return None
    token = data.get("token")
    if token is not None and (not isinstance(token, int) or isinstance(token, bool)):
        return None
    sid, mfa, mfa_at = data.get("sid"), data.get("mfa"), data.get("mfa_at", 0.0)
    if not (sid is None or isinstance(sid, str)) or not (mfa is None or isinstance(mfa, str)):
        return None
    if not isinstance(mfa_at, (int, float)) or isinstance(mfa_at, bool):
        return None
    return Session(csrf=data["csrf"], token_id=token, sid=sid, mfa=mfa, mfa_at=float(mfa_at))


def store(request: Request, response: Response, session: Session) -> None:
    data: dict[str, object] = {"csrf": session.csrf, "token": session.token_id}
    if session.sid is not None:
        data["sid"] = session.sid
    if session.mfa is not None:
        data.update(mfa=session.mfa, mfa_at=session.mfa_at)
    value = _serializer(request).dumps(data)
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def forget(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def user_of(app: App, session: Session | None) -> User | None:
    """The live account session or token behind ``session``; None when anonymous, ended,
    expired, revoked, locked or an ingest token."""
    if session is None:
        return None
    if session.sid is not None:
        found = accounts.session_of(app.context, session.sid)
        if found is None:
            return None
        live, account = found
        return User(name=account.handle, role=account.role, session_id=live.id)
    if session.token_id is None:
        return None
    try:
        info = auth.find_token(app.context, session.token_id)
    except NotFound:
        return None
    if info.revoked_at is not None or info.role not in auth.RANKED:
        return None
    return User(name=auth.actor_of(info), role=info.role, token_id=info.id)


def csrf_ok(session: Session | None, submitted: object) -> bool:
    if session is None or not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(session.csrf.encode(), submitted.encode())
