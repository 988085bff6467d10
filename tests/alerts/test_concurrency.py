"""Two OS processes delivering the same alerts at once to PostgreSQL: one row each, one incident."""

from __future__ import annotations

import copy
import multiprocessing
from collections.abc import Callable
from typing import Any

import pytest

from warroom.bootstrap import App, build
from warroom.domain.alerts.formats import parse_alertmanager
from warroom.domain.alerts.policy import AlertPolicy
from warroom.services.alerts.ingest import AlertIngest
from warroom.settings import Settings

from .conftest import load, with_catalog

pytestmark = pytest.mark.postgres

ROUNDS = 12
WIDTH = 8


def bodies() -> list[dict[str, Any]]:
    """Overlapping bodies of one group: body k carries alerts k..k+WIDTH-1."""
    template = load("alertmanager_firing.json")
    out = []
    for k in range(ROUNDS):
        body = copy.deepcopy(template)
        alert = body["alerts"][0]
        body["alerts"] = [
            alert | {"fingerprint": f"{i:016x}", "labels": alert["labels"] | {"route": f"/r/{i}"}}
            for i in range(k, k + WIDTH)
        ]
        out.append(body)
    return out


def deliver(url: str, backwards: bool, barrier: Any, results: Any) -> None:
    """One process: the bodies in order, or backwards (so the first bodies differ and race to
    declare, and later ones redeliver what the other process stored)."""
    app = with_catalog(build(Settings(database_url=url), migrate=False))
    ingest = AlertIngest(app.context, AlertPolicy())
    parsed = [parse_alertmanager(body) for body in bodies()]
    if backwards:
        parsed.reverse()
    barrier.wait(timeout=30)
    declared = []
    for batch in parsed:
        declared += ingest.ingest(batch, "alertmanager").declared
    results.put(declared)


def test_concurrent_deliveries_from_two_processes_store_one_alert_and_declare_one_incident(
    postgres_url: str, build_app: Callable[..., App]
) -> None:
    app = with_catalog(build_app(postgres_url))  # migrates
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(2)
    results = spawn.Queue()
    workers = [spawn.Process(target=deliver, args=(postgres_url, b, barrier, results)) for b in (False, True)]
    for worker in workers:
        worker.start()
    declared = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert sorted(ref for refs in declared for ref in refs) == ["INC-1"]
    distinct = ROUNDS + WIDTH - 1
    with app.context.uow() as uow:
        attached = uow.alerts.for_incident(1)
        assert len(attached) == distinct
        histories = [[s for s, _ in uow.alerts.history(r.id)] for r in attached]
        events = uow.incidents.events(1)
        assert uow.incidents.numbers() == [1]
    assert histories == [["firing"]] * distinct
    fingerprints = [e.payload["fingerprint"] for e in events if e.kind == "alert_attached"]
    assert sorted(fingerprints) == sorted(f"{i:016x}" for i in range(distinct))
