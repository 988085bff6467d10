"""Scheduled maintenance silences its services' alerts at ingest, on SQLite and PostgreSQL,
through the same silences ``warroom signals silence`` writes: recorded, never declaring."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from warroom.bootstrap import App
from warroom.domain.incidents.catalog import Catalog, StatusEntry
from warroom.services.comms import statuspage

from .conftest import CATALOG, T0, Clock, Hooks, load, make_hooks, with_catalog

AM = "/hooks/alertmanager"

STATUS_CATALOG = Catalog(
    services=tuple(
        dataclasses.replace(s, status_page=StatusEntry("Demo shop")) if s.name == "demo-shop" else s
        for s in CATALOG.services
    ),
    teams=CATALOG.teams,
)


@pytest.fixture
def status_hooks(database_url: str, build_app: Callable[..., App], clock: Clock) -> Iterator[Hooks]:
    made = make_hooks(build_app(database_url, clock=clock), clock)
    made = dataclasses.replace(made, app=with_catalog(made.app, STATUS_CATALOG))
    made.client.app.state.warroom = made.app  # type: ignore[attr-defined]
    with made.client:
        yield made


def test_a_window_in_progress_silences_its_services_alerts_with_the_maintenance_as_reason(
    status_hooks: Hooks,
) -> None:
    ctx = status_hooks.app.context
    window = statuspage.schedule_maintenance(
        ctx, "alice", ["demo-shop"], T0 - timedelta(minutes=10), T0 + timedelta(hours=1), "Database upgrade."
    )
    answer = status_hooks.post(AM, load("alertmanager_firing.json")).json()  # critical, tier 1
    assert answer["declared"] == [] and answer["queued"] == 1
    assert status_hooks.get("/api/v1/signals").json() == []
    shown = status_hooks.get("/api/v1/signals", params={"all": "true"}).json()
    assert shown[0]["silenced"]["reason"] == f"scheduled maintenance {window.ref}: Database upgrade."


def test_an_upcoming_or_cancelled_window_silences_nothing(status_hooks: Hooks) -> None:
    ctx = status_hooks.app.context
    later = statuspage.schedule_maintenance(
        ctx, "alice", ["demo-shop"], T0 + timedelta(hours=1), T0 + timedelta(hours=2), "Later."
    )
    now = statuspage.schedule_maintenance(
        ctx, "alice", ["demo-shop"], T0 - timedelta(minutes=5), T0 + timedelta(hours=2), "Now."
    )
    statuspage.cancel_maintenance(ctx, "alice", now.ref)
    answer = status_hooks.post(AM, load("alertmanager_firing.json")).json()
    assert answer["declared"] == ["INC-1"], (later, answer)
