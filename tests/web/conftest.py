"""Fixtures for the web room: an app on a per-test SQLite file, tokens, logged-in clients."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

with warnings.catch_warnings():
    # Starlette nudges towards httpx2; the project pins httpx, and TestClient works with it.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from warroom.bootstrap import App
from warroom.services import operations as ops
from warroom.services.identity import auth
from warroom.web.routes import build_router

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def web_app(app: App) -> FastAPI:
    """What ``server.create_app`` does for the web half: include the router, attach the App."""
    web = FastAPI()
    web.include_router(build_router())
    web.state.warroom = app
    return web


@pytest.fixture
def warroom_app(tmp_path: Path, build_app: Callable[..., App]) -> App:
    return build_app(f"sqlite:///{tmp_path / 'warroom.db'}")


@pytest.fixture
def client(warroom_app: App) -> Iterator[TestClient]:
    with TestClient(web_app(warroom_app), follow_redirects=False) as test_client:
        yield test_client


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def log_in(client: TestClient, app: App, role: str, name: str | None = None) -> str:
    """Log ``client`` in with a new token of ``role``; returns the CSRF token of its session."""
    plain, _ = auth.create_token(app.context, name or f"{role}-person", role)
    page = client.get("/login")
    answer = client.post("/login", data={"token": plain, "csrf_token": csrf_of(page.text), "next": "/"})
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/").text)


@pytest.fixture
def responder(client: TestClient, warroom_app: App) -> str:
    """``client`` logged in as a responder named alice; returns the CSRF token."""
    return log_in(client, warroom_app, "responder", "alice")


@pytest.fixture
def incident(warroom_app: App) -> str:
    view = ops.declare(
        warroom_app.context,
        "pager",
        {
            "title": "Checkout errors",
            "services": "checkout",
            "customer_impact": "12%",
            "impact_started_at": "2026-01-01T10:00:00Z",
        },
    )
    return str(view["id"])
