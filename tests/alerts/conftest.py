"""Alert ingest on a real database: an App with a small catalog, a frozen clock and tokens."""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # Starlette nudges towards httpx2; the project pins httpx, and TestClient works with it.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from warroom.bootstrap import App
from warroom.domain.alerts.signals import HOOK_SOURCES
from warroom.domain.incidents.catalog import Catalog, Service, StatusEntry, Team
from warroom.server import create_app
from warroom.services.identity import auth

FIXTURES = Path(__file__).parent.parent / "fixtures" / "webhooks"
T0 = datetime(2026, 11, 26, 22, 30, tzinfo=UTC)
TOKENS = {
    **{f"{source}-hook": "ingest" for source in HOOK_SOURCES},  # each opens /hooks/<source>
    "alertmanager:prod": "ingest",
    "alice": "responder",
    "vic": "viewer",
    "root": "admin",
}

CATALOG = Catalog(
    services=(
        Service(
            "checkout",
            "storefront",
            tier=1,
            matchers=('service="checkout"',),
            status_page=StatusEntry("Checkout", "Shopping"),
        ),
        Service("demo-shop", "storefront", tier=1, matchers=('service="demo-shop"',)),
        Service(
            "payments",
            "payments",
            tier=1,
            matchers=('job=~"payments.*"', 'env!="staging"'),
            status_page=StatusEntry("Payments", "Shopping"),
        ),
        Service("search", "storefront", tier=2, status_page=StatusEntry("Product search", "Browsing")),
    ),
    teams=(Team("storefront"), Team("payments"), Team("sre", fallback=True)),
)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class Clock:
    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def with_catalog(app: App, catalog: Catalog = CATALOG) -> App:
    return dataclasses.replace(app, context=dataclasses.replace(app.context, load_catalog=lambda: catalog))


@dataclass
class Hooks:
    """A TestClient on the whole server app (API + hooks) with a token per name."""

    client: TestClient
    app: App
    clock: Clock
    tokens: dict[str, str]

    def post(self, path: str, body: Any = None, as_: str = "hook", **kwargs: Any) -> Any:
        """POST as ``as_``; "hook" is the ingest token of the path's webhook."""
        headers = {"Authorization": f"Bearer {self.token(as_, path)}"} | kwargs.pop("headers", {})
        if body is not None:
            kwargs["json"] = body
        return self.client.post(path, headers=headers, **kwargs)

    def token(self, name: str, path: str) -> str:
        if name == "hook" and path.startswith("/hooks/"):
            name = path.removeprefix("/hooks/").split("?")[0].split("/")[0] + "-hook"
        return self.tokens[name]

    def get(self, path: str, as_: str = "alice", **kwargs: Any) -> Any:
        return self.client.get(path, headers={"Authorization": f"Bearer {self.tokens[as_]}"}, **kwargs)

    def show(self, ref: str) -> dict[str, Any]:
        answer = self.get(f"/api/v1/incidents/{ref}")
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def timeline(self, ref: str) -> list[dict[str, Any]]:
        answer = self.get(f"/api/v1/incidents/{ref}/timeline", params={"limit": 1000})
        assert answer.status_code == 200, answer.text
        events: list[dict[str, Any]] = answer.json()["events"]
        return events


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_hooks(app: App, clock: Clock) -> Hooks:
    app = with_catalog(app)
    tokens = {name: auth.create_token(app.context, name, role)[0] for name, role in TOKENS.items()}
    return Hooks(TestClient(create_app(app, with_web=False)), app, clock, tokens)


@pytest.fixture
def hooks(database_url: str, build_app: Callable[..., App], clock: Clock) -> Iterator[Hooks]:
    """On SQLite and on PostgreSQL."""
    made = make_hooks(build_app(database_url, clock=clock), clock)
    with made.client:
        yield made


@pytest.fixture
def sqlite_hooks(sqlite_url: str, build_app: Callable[..., App], clock: Clock) -> Iterator[Hooks]:
    """On SQLite only, for tests about HTTP rather than storage."""
    made = make_hooks(build_app(sqlite_url, clock=clock), clock)
    with made.client:
        yield made
