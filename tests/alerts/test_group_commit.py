"""Bodies arriving together are written in one transaction, each with its own result."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from warroom.bootstrap import App
from warroom.domain.alerts.formats import parse_alertmanager
from warroom.domain.alerts.policy import AlertPolicy
from warroom.services.alerts.group_commit import IngestResult, _parts, _Pending
from warroom.services.alerts.ingest import AlertIngest

from .conftest import load, with_catalog


def body(numbers: range, status: str, critical: bool = False) -> dict[str, Any]:
    doc = copy.deepcopy(load("alertmanager_firing.json"))
    base = doc["alerts"][0]
    doc["alerts"] = [
        base
        | {
            "status": status,
            "fingerprint": f"{n:016x}",
            "endsAt": "2026-11-26T22:29:00Z" if status == "resolved" else base["endsAt"],
            "labels": base["labels"]
            | {"route": f"/r/{n}", "severity": "critical" if critical else "warning"},
        }
        for n in numbers
    ]
    return doc


def test_a_firing_and_its_resolution_in_one_group_are_both_applied_in_order() -> None:
    firing = parse_alertmanager(body(range(3), "firing"))
    resolved = parse_alertmanager(body(range(1, 2), "resolved"))
    group = [
        _Pending("alertmanager", firing.signals, "a"),
        _Pending("alertmanager", firing.signals, "a"),
        _Pending("alertmanager", resolved.signals, "a"),
    ]
    parts, origin = _parts(group)
    assert [[s.fingerprint for s in signals] for _, _, signals in parts] == [
        [f"{n:016x}" for n in range(3)],
        ["0000000000000001"],
    ]
    assert origin[0, "0000000000000000"] == 0 and origin[1, "0000000000000001"] == 2


@pytest.mark.parametrize("writers", [1, 3])
def test_concurrent_bodies_keep_exact_dedup_and_their_own_results(
    database_url: str, build_app: Callable[..., App], writers: int
) -> None:
    app = with_catalog(build_app(database_url))
    ingest = AlertIngest(app.context, AlertPolicy(), writers=writers)
    bodies = [parse_alertmanager(body(range(k * 5, k * 5 + 5), "firing", critical=k == 0)) for k in range(8)]
    results: list[IngestResult] = []
    lock = threading.Lock()

    def deliver(index: int) -> None:
        result = ingest.ingest(bodies[index % 8], "alertmanager")
        with lock:
            results.append(result)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(16)]  # each body twice
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.new for r in results) == 40 and sum(r.changed for r in results) == 40
    assert sum(r.received for r in results) == 80
    # Bodies written in the group that declared report the incident their alerts went into.
    assert {ref for r in results for ref in r.declared} == {"INC-1"}
    queued = sum(r.queued for r in results)  # warnings written before the critical declared
    resolved = [parse_alertmanager(body(range(k * 5, k * 5 + 5), "resolved")) for k in range(8)]
    threads = [threading.Thread(target=lambda b=b: ingest.ingest(b, "alertmanager")) for b in resolved * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.context.uow() as uow:
        records = [uow.alerts.get("alertmanager", f"{n:016x}") for n in range(40)]
        histories = [[s for s, _ in uow.alerts.history(r.id)] for r in records if r is not None]
        kinds = [e.kind for e in uow.incidents.events(1)]
        assert uow.incidents.numbers() == [1]
        incident = uow.incidents.load(1)
    assert histories == [["firing", "resolved"]] * 40
    attached = 40 - queued
    # Each alert names its own route: the incident's scope names every attached one, by the
    # declaration (alerts written in the declaring group) or by scope_widened (later ones);
    # how the bodies fell into groups decides which, so the test asks only for the outcome.
    routes = {r.labels["route"] for r in records if r is not None and r.incident == 1}
    assert len(routes) == attached
    assert routes <= set(named_routes(incident.scope, incident.scope_named)), (incident.scope, kinds)
    kinds = [kind for kind in kinds if kind != "scope_widened"]
    assert kinds == ["incident_declared"] + ["alert_attached"] * attached + ["alert_resolved"] * attached


def named_routes(scope: str, named: dict[str, list[str]]) -> list[str]:
    """The routes a scope names: its ``route: a, b`` part and its ``scope_named``."""
    found = list(named.get("route", []))
    for part in scope.split(";"):
        label, _, values = part.strip().partition(":")
        if label.strip() == "route":
            found += [v.strip() for v in values.split(",")]
    return found


def test_replicas_taking_turns_on_one_incident_fold_only_each_others_new_events(
    database_url: str, build_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two ingests of one database, as two replicas: each keeps the incident it last wrote
    and, finding the other appended since, folds just those events (no full load), ending
    at exactly the state a fresh load gives, its hash chain intact."""
    from sqlalchemy import func, select

    from warroom.domain.shared.serial import to_data
    from warroom.storage.alert_store import SqlAlertStore
    from warroom.storage.alert_tables import alerts
    from warroom.storage.incident_store import SqlIncidentStore

    app = with_catalog(build_app(database_url))
    replicas = [AlertIngest(app.context, AlertPolicy()) for _ in range(2)]
    first = replicas[0].ingest(parse_alertmanager(body(range(0, 2), "firing", critical=True)), "am")
    assert first.declared == ("INC-1",)
    replicas[1].ingest(parse_alertmanager(body(range(2, 4), "firing", critical=True)), "am")  # loads INC-1
    loads: list[int] = []
    reads: list[int] = []
    full_load, read_events = SqlIncidentStore.load, SqlIncidentStore.events
    monkeypatch.setattr(SqlIncidentStore, "load", lambda self, n: loads.append(n) or full_load(self, n))
    monkeypatch.setattr(
        SqlIncidentStore, "events", lambda self, n, **kw: reads.append(n) or read_events(self, n, **kw)
    )
    linked: list[int] = []  # the alert store's own attach: a round trip of its own
    attach = SqlAlertStore.attach
    monkeypatch.setattr(
        SqlAlertStore, "attach", lambda self, ids, n: linked.append(n) or attach(self, ids, n)
    )
    for k in range(2, 12):  # turns: each replica finds the other's newer events
        result = replicas[k % 2].ingest(
            parse_alertmanager(body(range(k * 2, k * 2 + 2), "firing", critical=True)), "am"
        )
        assert result.updated == ("INC-1",)
    assert loads == []
    # On PostgreSQL the other's events come with the locks and the read, in one round trip;
    # on SQLite (statement by statement) the take reads them itself.
    assert reads == ([] if database_url.startswith("postgresql") else [1] * 10)
    assert linked == []  # the alerts were linked by the append that records them
    with app.context.uow() as uow:
        stored = full_load(uow.incidents, 1)  # type: ignore[arg-type]
        kinds = [e.kind for e in uow.incidents.events(1)]
    for replica in replicas:
        with app.context.uow() as uow:
            kept = replica._states.take(uow, 1)
        assert to_data(kept) == to_data(stored) and kept.chain_break is None
    assert kinds.count("alert_attached") == 24
    with app.context.uow() as uow:
        attached = uow.connection.execute(  # type: ignore[attr-defined]
            select(func.count()).select_from(alerts).where(alerts.c.incident == 1)
        ).scalar()
    assert attached == 24


class _Incidents:
    """The incident reads a take may use, counting the reads of events."""

    def __init__(self, events: list[Any], version: int) -> None:
        self._events, self._version, self.reads = events, version, 0

    def version(self, number: int) -> int:
        return self._version

    def events(self, number: int, *, after: int = 0) -> list[Any]:
        self.reads += 1
        return [e for e in self._events if e.seq > after]

    def load(self, number: int) -> Any:
        raise AssertionError("a kept state is caught up, never loaded again")


def test_a_take_uses_the_events_read_with_the_locks_only_when_they_follow_the_kept_state(
    sqlite_url: str, build_app: Callable[..., App]
) -> None:
    """Events read in the ingest's pipeline are folded on when they start right after the
    kept version and reach the stored one; a gap, a shortfall or none (a writer committed
    between the version read and the events read) and the take reads them itself."""
    from types import SimpleNamespace

    from warroom.domain.incidents.fold import fold
    from warroom.domain.shared.serial import to_data
    from warroom.services.alerts.incident_work import _States

    app = with_catalog(build_app(sqlite_url))
    ingest = AlertIngest(app.context, AlertPolicy())
    for k in range(4):
        ingest.ingest(parse_alertmanager(body(range(k * 2, k * 2 + 2), "firing", critical=True)), "am")
    with app.context.uow() as uow:
        kept = uow.incidents.load(1)
        events = uow.incidents.events(1)
    at = 3  # the kept state's version; the rest is what another process appended
    assert len(events) > at + 1

    def take(newer: list[Any] | None) -> tuple[Any, int]:
        states = _States()
        states.keep([fold(events[:at], None)])
        incidents = _Incidents(events, kept.version)
        state = states.take(SimpleNamespace(incidents=incidents), 1, kept.version, newer)  # type: ignore[arg-type]
        return state, incidents.reads

    rest = events[at:]
    for newer, reads in [(rest, 0), (rest[1:], 1), (rest[:-1], 1), ([], 1), (None, 1)]:
        state, counted = take(newer)
        assert counted == reads
        assert to_data(state) == to_data(kept) and state.chain_break is None
    assert ingest._states.held({"demo-shop", "checkout"}) == {1: kept.version}
    assert ingest._states.held({"checkout"}) == {}


def test_bodies_queued_while_a_group_inserts_join_it_unless_they_report_its_alerts_otherwise(
    database_url: str, build_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the writer makes a group's inserts, the bodies queued meanwhile from the same
    sender join the group (one transaction, each with its own result); a body from another
    sender, or one resolving an alert the group fires, waits for the next group, and every
    transition still lands in order."""
    from warroom.storage import alert_store

    app = with_catalog(build_app(database_url))
    ingest = AlertIngest(app.context, AlertPolicy())
    groups: list[list[tuple[str, int]]] = []
    prepare = alert_store.SqlAlertStore.prepare_insert
    later: list[Any] = []
    arrivals = [
        (parse_alertmanager(body(range(10, 15), "firing")), "am"),  # joins
        (parse_alertmanager(body(range(15, 20), "firing")), "am"),  # joins
        (parse_alertmanager(body(range(0, 2), "resolved")), "am"),  # resolves the group's: next group
        (parse_alertmanager(body(range(20, 23), "firing")), "other"),  # another sender: next group
    ]
    log: list[str] = []

    def arriving(self: Any, *args: Any, **kwargs: Any) -> Any:
        if arrivals and len(later) == 0:  # while the first insert is made, the rest arrive
            later.extend(ingest.submit(batch, actor) for batch, actor in arrivals)
        log.append("built")
        return prepare(self, *args, **kwargs)

    execute = psycopg.Cursor.execute

    def sent(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        log.append(str(query).split()[0])
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(alert_store.SqlAlertStore, "prepare_insert", arriving)
    monkeypatch.setattr(psycopg.Cursor, "execute", sent)
    once = AlertIngest._ingest_once

    def counted(self: Any, group: list[_Pending], extra: Any) -> Any:
        done = once(self, group, extra)
        groups.append([(pending.actor, len(pending.signals)) for pending in group])
        return done

    monkeypatch.setattr(AlertIngest, "_ingest_once", counted)
    first = ingest.ingest(parse_alertmanager(body(range(0, 10), "firing")), "am")
    assert (first.new, first.changed) == (10, 10)
    results = [future.result(timeout=30) for future in later]
    assert [(r.new, r.changed) for r in results] == [(5, 5), (5, 5), (0, 2), (3, 3)]
    # The first group took in both bodies of the same sender; the others came after it.
    assert groups[0] == [("am", 10), ("am", 5), ("am", 5)]
    assert groups[1] == [("am", 2), ("other", 3)] and len(groups) == 2
    if database_url.startswith("postgresql"):
        # Each body's insert went to the database before the next body's was built.
        assert log[:6] == ["built", "WITH", "built", "WITH", "built", "WITH"], log
    with app.context.uow() as uow:
        for n in range(23):
            stored = uow.alerts.get("alertmanager", f"{n:016x}")
            assert stored is not None, n
            history = [status for status, _ in uow.alerts.history(stored.id)]
            assert history == (["firing", "resolved"] if n < 2 else ["firing"]), (n, history)


def test_two_ingests_inserting_the_same_alerts_in_crossed_order_lose_one_to_a_retry(
    postgres_url: str, build_app: Callable[..., App]
) -> None:
    """Inserts made body by body can cross another process's over the same new alerts (an
    HA pair's two copies on two replicas): PostgreSQL breaks the deadlock, and the loser's
    store answers ConcurrencyConflict, which the ingest retries (not a storage fault)."""
    import psycopg

    from warroom.domain.alerts.transitions import transition
    from warroom.domain.shared.errors import ConcurrencyConflict
    from warroom.services.alerts.ingest import _moves, _Step

    app = with_catalog(build_app(postgres_url))
    ingest = AlertIngest(app.context, AlertPolicy())
    route = ingest.router.route
    a = parse_alertmanager(body(range(0, 3), "firing")).signals
    b = parse_alertmanager(body(range(3, 6), "firing")).signals

    class Batch:
        source = "alertmanager"

        def __init__(self, alerts: Any, now: Any, bodies: list[Any]) -> None:
            self._alerts, self._now, self._bodies = alerts, now, bodies

        def inserts(self) -> Any:
            for signals in self._bodies:
                steps = [_Step(s, transition(None, s), None, route(s.labels)) for s in signals]
                yield self._alerts.prepare_insert(
                    [(s.signal, s.route) for s in steps],
                    self._now,
                    {s.signal.fingerprint: _moves(s, self._now) for s in steps},
                )

        def services(self) -> Any:
            return {route(s.labels).service for signals in self._bodies for s in signals}

        def fingerprints(self) -> Any:
            return [s.fingerprint for signals in self._bodies for s in signals]

        def catch_up(self) -> Any:
            return {}

    libpq = postgres_url.replace("postgresql+psycopg", "postgresql")
    now = app.context.clock.now()
    outcome: list[BaseException | None] = []
    with psycopg.connect(libpq) as other, app.context.uow() as uow:
        other.execute("SET deadlock_timeout = '30s'")  # the ingest's session finds the deadlock
        # the ingest's session checks once, a second into its wait: by then the cycle is closed
        uow.connection.exec_driver_sql("SET deadlock_timeout = '1s'")  # type: ignore[attr-defined]
        other_store = alert_store_for(other)
        other_store.begin_ingest(Batch(other_store, now, [b]), now)

        def crossing() -> None:
            try:
                uow.alerts.begin_ingest(Batch(uow.alerts, now, [a, b]), now)  # waits on B
                outcome.append(None)
            except BaseException as error:
                outcome.append(error)

        thread = threading.Thread(target=crossing)
        thread.start()
        threading.Event().wait(0.3)
        try:
            other_store.begin_ingest(Batch(other_store, now, [a]), now)  # waits on A: a cycle
        finally:
            thread.join(30)
        other.commit()
    assert len(outcome) == 1 and isinstance(outcome[0], ConcurrencyConflict), outcome
    with app.context.uow() as uow:
        assert all(uow.alerts.get("alertmanager", s.fingerprint) for s in [*a, *b])


def alert_store_for(connection: Any) -> Any:
    """The alert store on a raw psycopg connection of its own (another process's session)."""
    from warroom.storage.alert_store import SqlAlertStore

    class Dialect:
        name = "postgresql"

    class Wrapped:
        dialect = Dialect()

        class connection:
            driver_connection = connection

    return SqlAlertStore(Wrapped())  # type: ignore[arg-type]


def test_a_group_joins_bodies_only_within_its_size_counting_every_body_whole(
    database_url: str, build_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resend of the group's own alerts adds no new alert but counts whole, as the writer
    counts bodies: a sender resending while the group inserts cannot keep it open."""
    from warroom.services.alerts import ingest as ingest_module
    from warroom.storage import alert_store

    monkeypatch.setattr(ingest_module, "GROUP_SIGNALS", 12)
    app = with_catalog(build_app(database_url))
    ingest = AlertIngest(app.context, AlertPolicy())
    groups: list[list[int]] = []
    later: list[Any] = []
    first = parse_alertmanager(body(range(0, 10), "firing"))
    prepare = alert_store.SqlAlertStore.prepare_insert

    def arriving(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not later:
            later.extend(ingest.submit(first, "am") for _ in range(3))  # resends of the same body
            later.append(ingest.submit(parse_alertmanager(body(range(10, 11), "firing")), "am"))
        return prepare(self, *args, **kwargs)

    once = AlertIngest._ingest_once

    def counted(self: Any, group: list[_Pending], extra: Any) -> Any:
        done = once(self, group, extra)
        groups.append([len(pending.signals) for pending in group])
        return done

    monkeypatch.setattr(alert_store.SqlAlertStore, "prepare_insert", arriving)
    monkeypatch.setattr(AlertIngest, "_ingest_once", counted)
    assert ingest.ingest(first, "am").new == 10
    results = [future.result(timeout=30) for future in later]
    assert [(r.new, r.changed) for r in results] == [(0, 0), (0, 0), (0, 0), (1, 1)]
    assert groups[0] == [10]  # 10 + 10 > 12: no resend joined
    assert all(sum(sizes) <= 12 or len(sizes) == 1 for sizes in groups), groups


def test_a_group_that_deadlocked_is_retried_and_answered_as_if_nothing_happened(
    postgres_url: str, build_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL aborting the group's transaction to break a deadlock is a conflict: the
    writer writes the group again, bodies that joined it included, and each gets its own
    answer; a deadlock on every attempt is answered as a conflict (503 for the sender to
    retry), not as a storage fault."""
    from warroom.domain.shared.errors import ConcurrencyConflict
    from warroom.services.alerts.ingest import ATTEMPTS
    from warroom.storage import alert_store

    app = with_catalog(build_app(postgres_url))
    ingest = AlertIngest(app.context, AlertPolicy())
    pipelined = alert_store.SqlAlertStore._pipelined
    deadlocks = [1]

    def deadlocking(self: Any, statements: Any) -> Any:
        statements = list(statements)  # the group (and what joined it) is made
        if deadlocks[0] > 0 and statements[0][0].startswith("WITH ins"):
            deadlocks[0] -= 1  # as the store answers PostgreSQL's deadlock_detected (next test)
            raise alert_store._conflict() from psycopg.errors.DeadlockDetected("deadlock detected")
        return pipelined(self, statements)

    monkeypatch.setattr(alert_store.SqlAlertStore, "_pipelined", deadlocking)
    result = ingest.ingest(parse_alertmanager(body(range(0, 4), "firing")), "am")
    assert (result.new, result.changed) == (4, 4)
    with app.context.uow() as uow:
        for n in range(4):
            stored = uow.alerts.get("alertmanager", f"{n:016x}")
            assert stored is not None and [s for s, _ in uow.alerts.history(stored.id)] == ["firing"]

    deadlocks[0] = ATTEMPTS
    with pytest.raises(ConcurrencyConflict):
        ingest.ingest(parse_alertmanager(body(range(4, 6), "firing")), "am")
    with app.context.uow() as uow:
        assert uow.alerts.get("alertmanager", f"{4:016x}") is None


def test_the_store_answers_a_deadlock_as_a_conflict(postgres_url: str, build_app: Callable[..., App]) -> None:
    """Any statement of the alert store that PostgreSQL aborts to break a deadlock raises
    ConcurrencyConflict (the ingest retries it), one by one or pipelined."""
    from warroom.domain.shared.errors import ConcurrencyConflict

    app = build_app(postgres_url)
    raising = "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'deadlock_detected', MESSAGE = 'deadlock detected'; END $$"
    for run in ("_rows", "_pipelined"):
        with app.context.uow() as uow:
            store = uow.alerts
            with pytest.raises(ConcurrencyConflict):
                if run == "_rows":
                    store._rows(raising, ())  # type: ignore[attr-defined]
                else:
                    store._pipelined([(raising, ())])  # type: ignore[attr-defined]


def test_each_alert_stores_its_own_extra_fields_and_link_when_a_group_shares_one(
    database_url: str, build_app: Callable[..., App]
) -> None:
    """The insert writes the ``extra`` of alerts with no extra fields once per link: alerts
    sharing a link, one with another (not ASCII), one with none and one with extra fields
    each store their own, as a re-fire (written by the update) does."""
    import dataclasses
    import json

    app = with_catalog(build_app(database_url))
    ingest = AlertIngest(app.context, AlertPolicy())
    doc = body(range(5), "firing")
    links = [
        "http://prom/graph?g0.expr=up",
        "http://prom/graph?g0.expr=up",
        "http://prom/g?ü=1",
        None,
        "http://x",
    ]
    for alert, link in zip(doc["alerts"], links, strict=True):
        alert.pop("generatorURL", None)
        if link:
            alert["generatorURL"] = link
    batch = parse_alertmanager(doc)
    signals = list(batch.signals)
    signals[4] = dataclasses.replace(signals[4], extra={"values": {"B": 1.5}, "note": "ü"})
    ingest.ingest(dataclasses.replace(batch, signals=signals), "a")

    def stored() -> dict[str, Any]:
        with app.context.uow() as uow:
            rows = uow.connection.exec_driver_sql("SELECT fingerprint, extra FROM alerts").all()  # type: ignore[attr-defined]
        return {fingerprint: json.loads(extra) for fingerprint, extra in rows}

    expected: list[dict[str, Any]] = [{"generator_url": link} if link else {} for link in links[:4]]
    expected.append({"values": {"B": 1.5}, "note": "ü", "generator_url": "http://x"})
    assert stored() == {f"{n:016x}": extra for n, extra in enumerate(expected)}
    with app.context.uow() as uow:  # the text itself is compact JSON, as the update writes it
        connection = uow.connection  # type: ignore[attr-defined]
        raw = connection.exec_driver_sql(
            "SELECT extra FROM alerts WHERE fingerprint = '0000000000000002'"
        ).scalar_one()
    assert raw == json.dumps(
        {"generator_url": "http://prom/g?ü=1"}, separators=(",", ":"), ensure_ascii=False
    )

    ingest.ingest(parse_alertmanager(body(range(5), "resolved")), "a")
    refire = body(range(2), "firing")
    for alert in refire["alerts"]:
        alert["startsAt"] = "2026-11-26T23:00:00Z"  # started again after it resolved
    refire["alerts"][0]["generatorURL"] = "http://prom/graph?g0.expr=down"
    refire["alerts"][1].pop("generatorURL", None)
    ingest.ingest(parse_alertmanager(refire), "a")
    again = stored()
    assert again["0000000000000000"] == {"generator_url": "http://prom/graph?g0.expr=down"}
    assert again["0000000000000001"] == {}
