"""An API client on a real database (SQLite file and PostgreSQL), with a token per role."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

with warnings.catch_warnings():
    # Starlette nudges towards httpx2; the project pins httpx, and TestClient works with it.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from warroom.bootstrap import App
from warroom.server import create_app
from warroom.services.identity import auth

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
ROLES = {"alice": "responder", "vic": "viewer", "root": "admin", "hook": "ingest"}


class Clock:
    """Frozen unless moved: equal scenarios then produce equal times (and hashes)."""

    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclass
class Api:
    """A TestClient on a built App, with a token for each role."""

    client: TestClient
    app: App
    clock: Clock
    tokens: dict[str, str]

    def auth(self, name: str = "alice") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def get(self, path: str, as_: str = "alice", **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.auth(as_) | kwargs.pop("headers", {}), **kwargs)

    def post(self, path: str, body: Any = None, as_: str = "alice", **kwargs: Any) -> Any:
        headers = self.auth(as_) | kwargs.pop("headers", {})
        if body is None and "content" not in kwargs:
            body = {}
        return self.client.post(path, json=body, headers=headers, **kwargs)

    def declare(self, **fields: Any) -> dict[str, Any]:
        body = {"title": "Checkout failing", "services": ["checkout"], "customer_impact": "12%"} | fields
        answer = self.post("/api/v1/incidents", body)
        assert answer.status_code == 201, answer.text
        result: dict[str, Any] = answer.json()
        return result


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_api(app: App, clock: Clock, *, with_web: bool = False, **client_args: Any) -> Api:
    tokens = {
        name: auth.create_token(app.context, name, role, "alertmanager" if role == "ingest" else None)[0]
        for name, role in ROLES.items()
    }
    client = TestClient(create_app(app, with_web=with_web), **client_args)
    return Api(client=client, app=app, clock=clock, tokens=tokens)


@pytest.fixture
def api(database_url: str, build_app: Callable[..., App], clock: Clock) -> Iterator[Api]:
    """On SQLite and on PostgreSQL."""
    api = make_api(build_app(database_url, clock=clock), clock)
    with api.client:
        yield api


@pytest.fixture
def sqlite_api(sqlite_url: str, build_app: Callable[..., App], clock: Clock) -> Iterator[Api]:
    """On SQLite only, for tests about HTTP rather than storage."""
    api = make_api(build_app(sqlite_url, clock=clock), clock)
    with api.client:
        yield api
