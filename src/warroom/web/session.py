"""Web sessions: a signed cookie naming the logged-in token, and a CSRF token per session.

The cookie holds ``{"csrf": ..., "token": <token id or null>}``, signed (not encrypted)
with itsdangerous and a secret key, and expires after ``MAX_AGE``. It never holds the
token's secret. On every request the token is looked up again by id, so revoking a token
or lowering its role takes effect on the next page, not when the cookie expires.

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
from warroom.services.identity import auth

COOKIE = "warroom_session"
MAX_AGE = 12 * 3600
SALT = "warroom.web.session"
CSRF_FIELD = "csrf_token"
_SECRET_ATTR = "warroom_web_secret"
_secret_lock = threading.Lock()


@dataclass(frozen=True)
class Session:
    csrf: str
    token_id: int | None = None


@dataclass(frozen=True)
class User:
    """The person behind the session: their token's name is the actor on every event."""

    name: str
    role: str
    token_id: int

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


def new_session(token_id: int | None = None) -> Session:
    return Session(csrf=secrets.token_urlsafe(24), token_id=token_id)


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
    return Session(csrf=data["csrf"], token_id=token)


def store(request: Request, response: Response, session: Session) -> None:
    value = _serializer(request).dumps({"csrf": session.csrf, "token": session.token_id})
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
    """The live token behind ``session``; None when anonymous, revoked or an ingest token."""
    if session is None or session.token_id is None:
        return None
    try:
        info = auth.find_token(app.context, session.token_id)
    except NotFound:
        return None
    if info.revoked_at is not None or info.role not in auth.RANKED:
        return None
    return User(name=info.name, role=info.role, token_id=info.id)


def csrf_ok(session: Session | None, submitted: object) -> bool:
    if session is None or not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(session.csrf.encode(), submitted.encode())
