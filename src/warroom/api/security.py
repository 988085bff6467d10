"""Bearer tokens on every ``/api/v1`` route: 401 without a live token, 403 without the role."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from warroom.bootstrap import App
from warroom.services.identity import auth
from warroom.services.identity.auth import TokenInfo

bearer = HTTPBearer(auto_error=False, description="An API token: `warroom token create --role ...`")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="warroom"'}


@dataclass(frozen=True)
class Caller:
    """Who is calling (the token) and the application they call."""

    token: TokenInfo
    app: App

    @property
    def actor(self) -> str:
        """Who timeline events name: a personal token's person, else the token's name
        (``owner via name`` for a service token with an owner)."""
        return auth.actor_of(self.token)


def warroom_app(request: Request) -> App:
    app: App = request.app.state.warroom
    return app


def require(need: str) -> Callable[..., Caller]:
    """A dependency admitting callers whose token role allows ``need``."""

    def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> Caller:
        app = warroom_app(request)
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(401, "a bearer token is required (Authorization: Bearer wr_...)", CHALLENGE)
        info = auth.authenticate(app.context, credentials.credentials)
        if info is None:
            raise HTTPException(401, "the token is unknown or revoked", CHALLENGE)
        if not auth.allows(info.role, need):
            raise HTTPException(403, f"a {info.role} token may not do this; it needs the {need} role")
        return Caller(token=info, app=app)

    return dependency


viewer = require("viewer")
responder = require("responder")
admin = require("admin")
