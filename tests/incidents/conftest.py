"""Fixtures of the core tests: a clock that moves only when told, and apps built on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.incidents.fakes import FakeClock, FakeDatabase, fake_context
from warroom.services.shared.context import Context


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake_ctx(clock: FakeClock) -> Context:
    """Use cases on the in-memory fakes: no database, milliseconds per test."""
    return fake_context(FakeDatabase(), clock)


@pytest.fixture
def ctx(database_url: str, build_app: Callable[..., Any], clock: FakeClock) -> Context:
    """Use cases on a fresh database, once on SQLite and once on PostgreSQL."""
    context: Context = build_app(database_url, clock=clock).context
    return context
