"""The shortcuts of the ingest hot path answer exactly as the long way round would.

- the webhook lane ahead of the router answers byte for byte as the declared routes do;
- a transaction locks the services of the alerts it touches, also when a stored alert's
  service is no longer where its labels route (the attempt is redone with it locked);
- a pooled PostgreSQL connection that died while idle is replaced without an error.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from warroom.api.hooks import HookLane
from warroom.bootstrap import App
from warroom.domain.alerts.formats import parse_alertmanager
from warroom.domain.alerts.policy import AlertPolicy
from warroom.domain.incidents.catalog import Catalog, Service
from warroom.server import create_app
from warroom.services.alerts.ingest import AlertIngest
from warroom.storage import db as storage_db

from .conftest import CATALOG, Clock, Hooks, load, make_hooks, with_catalog

# --- the lane ---------------------------------------------------------------------------


def _without_lane(hooks: Hooks) -> TestClient:
    """A client on the same application state, but every hook request taking the router."""
    fastapi_app = create_app(hooks.app, with_web=False)
    fastapi_app.user_middleware = [m for m in fastapi_app.user_middleware if m.cls is not HookLane]
    return TestClient(fastapi_app)


def _am(fingerprint: str, status: str = "firing") -> dict[str, Any]:
    doc = copy.deepcopy(load("alertmanager_firing.json"))
    doc["status"] = status
    doc["alerts"] = [doc["alerts"][0] | {"fingerprint": fingerprint, "status": status}]
    return doc


@pytest.fixture
def two_ways(sqlite_url: str, tmp_path: Any, build_app: Callable[..., App]) -> Iterator[tuple[Hooks, Hooks]]:
    """Two fresh applications: ``lane`` answers hooks in the lane, ``routed`` by the router."""
    lane = make_hooks(build_app(sqlite_url, clock=Clock()), Clock())
    other = build_app(f"sqlite:///{tmp_path / 'routed.db'}", clock=Clock())
    routed = make_hooks(other, Clock())
    routed = dataclasses.replace(routed, client=_without_lane(routed), tokens=routed.tokens)
    with lane.client, routed.client:
        yield lane, routed


CASES: list[tuple[str, str, dict[str, Any]]] = [
    # (path, token name or "" for none or "?" for the query parameter, request kwargs)
    ("/hooks/alertmanager", "hook", {"json": _am("a1")}),
    ("/hooks/alertmanager", "hook", {"json": _am("a1")}),  # redelivery
    ("/hooks/alertmanager", "hook", {"json": _am("a1", "resolved")}),
    ("/hooks/alertmanager", "?", {"json": _am("a2")}),
    ("/hooks/alertmanager", "", {"json": _am("a3")}),
    ("/hooks/alertmanager", "vic", {"json": _am("a4")}),
    ("/hooks/alertmanager", "hook", {"content": b"{not json"}),
    ("/hooks/alertmanager", "hook", {"content": b""}),
    ("/hooks/alertmanager", "hook", {"content": b"\xff\xfe"}),
    ("/hooks/alertmanager", "hook", {"json": {"version": "4", "alerts": "nope"}}),
    ("/hooks/alertmanager", "hook", {"content": b"[" * 100_000 + b"]" * 100_000}),
    ("/hooks/pagerduty", "hook", {"json": {"routing_key": "x", "event_action": "bogus"}}),
    ("/hooks/pagerduty", "hook", {"json": load("pagerduty_trigger.json")}),
    ("/hooks/grafana", "hook", {"json": load("grafana_firing.json")}),
    ("/hooks/generic", "hook", {"json": {"labels": {"alertname": "Disk", "service": "search"}}}),
    ("/hooks/generic", "alertmanager:prod", {"json": {"labels": {"alertname": "Disk"}}}),
]


def test_the_lane_answers_every_case_exactly_as_the_routes_do(two_ways: tuple[Hooks, Hooks]) -> None:
    lane, routed = two_ways
    for path, who, kwargs in CASES:
        answers = []
        for hooks in (lane, routed):
            headers = {"Authorization": f"Bearer {hooks.token(who, path)}"} if who not in ("", "?") else {}
            url = f"{path}?token={hooks.token('hook', path)}" if who == "?" else path
            answer = hooks.client.post(url, headers=headers, **kwargs)
            body = answer.json()
            if path == "/hooks/pagerduty" and "dedup_key" in body:
                body["dedup_key"] = (
                    "<generated>" if "dedup_key" not in kwargs.get("json", {}) else body["dedup_key"]
                )
            answers.append((answer.status_code, answer.headers.get("content-type"), body))
        assert answers[0] == answers[1], (path, who)
    # And both stored the same alerts.
    assert _alert_rows(lane.app) == _alert_rows(routed.app)


def test_grafana_may_put_through_the_lane_but_other_methods_and_paths_take_the_router(
    sqlite_hooks: Hooks,
) -> None:
    assert (
        sqlite_hooks.client.put(
            "/hooks/grafana", json=load("grafana_firing.json"), headers=_bearer(sqlite_hooks, "grafana-hook")
        ).status_code
        == 200
    )
    assert (
        sqlite_hooks.client.put(
            "/hooks/alertmanager", json=_am("p1"), headers=_bearer(sqlite_hooks)
        ).status_code
        == 405
    )
    assert sqlite_hooks.client.get("/hooks/alertmanager", headers=_bearer(sqlite_hooks)).status_code == 405
    slash = sqlite_hooks.client.post(
        "/hooks/alertmanager/", json=_am("p2"), headers=_bearer(sqlite_hooks), follow_redirects=False
    )
    assert slash.status_code in (307, 404)


def test_the_lane_is_counted_under_the_route_template_and_kept_inside_the_size_limit(
    sqlite_hooks: Hooks,
) -> None:
    for _ in range(3):
        assert sqlite_hooks.post("/hooks/alertmanager", _am("m1")).status_code == 200
    huge = sqlite_hooks.post("/hooks/alertmanager", content=b"x" * (1024 * 1024 + 1))
    assert huge.status_code == 413 and huge.json()["field"] == "body"
    exposition = sqlite_hooks.client.get("/metrics").text
    assert (
        'warroom_http_requests_total{method="POST",route="/hooks/alertmanager",status="200"} 3' in exposition
    )
    assert _alert_rows(sqlite_hooks.app) == [("alertmanager", "m1", "firing")]


def _bearer(hooks: Hooks, who: str = "alertmanager-hook") -> dict[str, str]:
    return {"Authorization": f"Bearer {hooks.tokens[who]}"}


def _alert_rows(app: App) -> list[tuple[str, str, str]]:
    from sqlalchemy import select

    from warroom.storage.alert_tables import alerts

    with app.context.uow() as uow:
        rows = uow.connection.execute(  # type: ignore[attr-defined]
            select(alerts.c.source, alerts.c.fingerprint, alerts.c.status).order_by(alerts.c.id)
        )
        return [tuple(row) for row in rows]


# --- locks follow the stored service --------------------------------------------------------


def test_a_stored_alert_whose_service_moved_is_resolved_with_its_service_locked(
    database_url: str, build_app: Callable[..., App]
) -> None:
    app = build_app(database_url)
    before = with_catalog(app)
    AlertIngest(before.context, AlertPolicy()).ingest(parse_alertmanager(_am("moved")), "am")
    # The catalog changes: the alert's labels now route to payments, not demo-shop.
    moved = Catalog(
        services=(Service("payments", "payments", tier=1, matchers=('service="demo-shop"',)),),
        teams=CATALOG.teams,
    )
    after = dataclasses.replace(app, context=dataclasses.replace(app.context, load_catalog=lambda: moved))
    ingest = AlertIngest(after.context, AlertPolicy())
    attempts: list[frozenset[str]] = []
    once = ingest._ingest_once

    def spy(group: Any, extra: frozenset[str]) -> Any:
        attempts.append(extra)
        return once(group, extra)

    ingest._ingest_once = spy  # type: ignore[method-assign]
    result = ingest.ingest(parse_alertmanager(_am("moved", "resolved")), "am")
    assert result.changed == 1
    assert attempts == [frozenset(), frozenset({"demo-shop"})]
    with app.context.uow() as uow:
        stored = uow.alerts.get("alertmanager", "moved")
        assert stored is not None and stored.status == "resolved" and stored.service == "demo-shop"
        assert [status for status, _ in uow.alerts.history(stored.id)] == ["firing", "resolved"]


# --- pooled connections ----------------------------------------------------------------------


def test_a_pooled_connection_that_died_while_idle_is_replaced_without_an_error(
    postgres_url: str, build_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    app = build_app(postgres_url)
    with app.context.uow() as uow:
        uow.alerts.open_incidents(["checkout"])  # a connection now rests in the pool
    admin = make_url(postgres_url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (make_url(postgres_url).database,),
        ).fetchone()
    assert killed is not None and killed[0] >= 1
    monkeypatch.setattr(storage_db, "PING_AFTER_IDLE", 0.0)  # it rested long enough to be checked
    with app.context.uow() as uow:
        assert uow.alerts.open_incidents(["checkout"]) == {}


def test_labels_are_stored_as_the_standard_library_writes_them_whichever_encoder_runs() -> None:
    import json
    import math

    from warroom.storage.alert_store import _dumps

    stdlib = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    for value in (
        {"alertname": "HighLatency", "q": 'say "hi"\\', "ctl": "\x00\x1f\x7f\n\t", "uni": "é\u2028😀"},
        {"lone": "\ud800"},  # orjson refuses it; the standard library writes it
        {"ratio": math.nan, "n": 10**30, "nested": {"a": [1, 2.5]}},  # not a string map
        {},
    ):
        assert _dumps(value) == stdlib(value)


def test_a_body_the_fast_parser_refuses_is_judged_by_the_standard_library() -> None:
    import math

    from warroom.api.hooks import Refused, _decode

    decoded = _decode(b'{"big": 100000000000000000000000, "x": NaN}')  # orjson refuses both
    assert decoded["big"] == 10**23 and math.isnan(decoded["x"])
    with pytest.raises(Refused) as refused:
        _decode(b"[1,]")
    assert b"Expecting value at line 1 column 4" in bytes(refused.value.response.body)


# --- the insert goes with the locks and the read ---------------------------------------------


def _many(prefix: str, count: int, status: str = "firing") -> dict[str, Any]:
    doc = _am(f"{prefix}0", status)
    doc["alerts"] = [
        doc["alerts"][0]
        | {"fingerprint": f"{prefix}{n}", "labels": doc["alerts"][0]["labels"] | {"n": str(n)}}
        for n in range(count)
    ]
    return doc


def test_new_alerts_are_inserted_in_the_round_trip_of_the_locks_and_reads(
    postgres_url: str, build_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a body's new alerts go in the pipeline that takes the locks and reads,
    built before it (no statement of their own while the locks are held); a redelivery and a
    body half stored insert only what is new, and draw no ids for what is stored."""
    from warroom.storage import alert_store

    app = with_catalog(build_app(postgres_url))
    ingest = AlertIngest(app.context, AlertPolicy())
    pipelines: list[list[str]] = []
    singles: list[str] = []
    pipelined, rows = alert_store.SqlAlertStore._pipelined, alert_store.SqlAlertStore._rows

    def spy_pipeline(self: Any, statements: Any) -> Any:
        statements = list(statements)  # made as asked for: the ingest's inserts, then the reads
        pipelines.append([sql.split()[0] + " " + sql.split()[1] for sql, _ in statements])
        return pipelined(self, statements)

    def spy_rows(self: Any, sql: str, params: Any) -> Any:
        singles.append(sql)
        return rows(self, sql, params)

    monkeypatch.setattr(alert_store.SqlAlertStore, "_pipelined", spy_pipeline)
    monkeypatch.setattr(alert_store.SqlAlertStore, "_rows", spy_rows)

    first = ingest.ingest(parse_alertmanager(_many("p", 30)), "am")
    assert (first.new, first.changed) == (30, 30)
    assert len(pipelines) == 1 and pipelines[0][1] == "SELECT count(pg_advisory_xact_lock(k))"
    assert pipelines[0][0] == "WITH ins"  # the insert, first in the same round trip, before the locks
    assert not any("INSERT INTO alerts" in sql for sql in singles)

    def last_id() -> int:
        with app.context.uow() as uow:
            return int(uow.connection.exec_driver_sql("SELECT last_value FROM alerts_id_seq").scalar_one())  # type: ignore[attr-defined]

    drawn = last_id()
    again = ingest.ingest(parse_alertmanager(_many("p", 30)), "am")
    assert (again.new, again.changed) == (0, 0)
    assert last_id() == drawn  # the stored ones were left out, not tried and refused
    half = ingest.ingest(parse_alertmanager(_many("p", 40)), "am")  # p30..p39 are new
    assert (half.new, half.changed) == (10, 10)
    assert last_id() == drawn + 10
    with app.context.uow() as uow:
        stored = uow.alerts.get("alertmanager", "p35")
        assert stored is not None and [s for s, _ in uow.alerts.history(stored.id)] == ["firing"]
    # Resolutions: the rows' update and their transitions in one round trip too.
    pipelines.clear()
    singles.clear()
    resolved = ingest.ingest(parse_alertmanager(_many("p", 5, "resolved")), "am")
    assert resolved.changed == 5
    assert pipelines[-1] == ["UPDATE alerts", "INSERT INTO"]
    assert not any(sql.startswith(("UPDATE alerts", "INSERT INTO alert_transitions")) for sql in singles)
    with app.context.uow() as uow:
        first_one = uow.alerts.get("alertmanager", "p0")
        assert first_one is not None and first_one.status == "resolved"
        assert [s for s, _ in uow.alerts.history(first_one.id)] == ["firing", "resolved"]


def test_alerts_this_process_saw_stored_are_not_prepared_again_but_never_lost(
    database_url: str, build_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resend or a resolution of alerts this process stored builds no insert rows for
    them; an alert it wrongly remembers as stored (a database restored from before it) is
    still inserted, with its transition."""
    from warroom.storage import alert_store

    app = with_catalog(build_app(database_url))
    ingest = AlertIngest(app.context, AlertPolicy())
    prepared: list[list[str]] = []
    prepare = alert_store.SqlAlertStore.prepare_insert

    def spy(self: Any, rows: Any, now: Any, transitions: Any) -> Any:
        prepared.append(sorted(signal.fingerprint for signal, _ in rows))
        return prepare(self, rows, now, transitions)

    monkeypatch.setattr(alert_store.SqlAlertStore, "prepare_insert", spy)
    ingest.ingest(parse_alertmanager(_many("s", 5)), "am")
    ingest.ingest(parse_alertmanager(_many("s", 5)), "am")  # Alertmanager's resend
    resolved = ingest.ingest(parse_alertmanager(_many("s", 5, "resolved")), "am")
    assert resolved.changed == 5
    assert prepared == [[f"s{n}" for n in range(5)], [], []]

    ingest._stored.add("alertmanager", ["ghost"])  # remembered, but not in the database
    result = ingest.ingest(parse_alertmanager(_am("ghost")), "am")
    assert (result.new, result.changed) == (1, 1)
    with app.context.uow() as uow:
        ghost = uow.alerts.get("alertmanager", "ghost")
        assert ghost is not None and [s for s, _ in uow.alerts.history(ghost.id)] == ["firing"]
        for n in range(5):
            stored = uow.alerts.get("alertmanager", f"s{n}")
            assert stored is not None and [s for s, _ in uow.alerts.history(stored.id)] == [
                "firing",
                "resolved",
            ]


def test_the_locked_read_does_not_look_up_again_the_rows_its_own_insert_just_stored(
    postgres_url: str, build_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A storm's new alerts are inserted in the round trip of the read; only the alerts the
    insert did not store (stored by earlier transactions: another replica's, another
    Alertmanager's) are read under the locks and decided on, so a storm's new alerts are
    not looked up a second time."""
    from warroom.storage import alert_store

    app = with_catalog(build_app(postgres_url))
    ingest = AlertIngest(app.context, AlertPolicy())
    ingest.ingest(parse_alertmanager(_many("x", 10)), "am")  # x0..x9 stored
    ingest._stored = type(ingest._stored)()  # another process: it saw none of them stored
    reads: list[list[str]] = []
    statement = alert_store.SqlAlertStore._known_statement

    def spy(self: Any, source: str, fingerprints: Any, **kwargs: Any) -> Any:
        reads.append(sorted(fingerprints))
        return statement(self, source, fingerprints, **kwargs)

    monkeypatch.setattr(alert_store.SqlAlertStore, "_known_statement", spy)
    result = ingest.ingest(parse_alertmanager(_many("x", 25)), "am")  # x10..x24 are new
    assert (result.new, result.changed) == (15, 15)
    assert reads == [sorted(f"x{n}" for n in range(10))]  # the stored ten, not the fifteen just inserted
    resolved = ingest.ingest(parse_alertmanager(_many("x", 25, "resolved")), "am")
    assert resolved.changed == 25  # every one of them was known as stored and is resolved once
    with app.context.uow() as uow:
        for n in (0, 9, 10, 24):
            stored = uow.alerts.get("alertmanager", f"x{n}")
            assert stored is not None and [s for s, _ in uow.alerts.history(stored.id)] == [
                "firing",
                "resolved",
            ]


def test_an_incident_holding_a_storm_of_alerts_is_snapshot_less_often_and_loads_the_same(
    database_url: str, build_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Snapshots are spaced by the incident's size (``snapshot_interval``): one holding
    1,500 alerts is not snapshot every hundred events at a cost growing with each alert,
    never more than an interval apart, and loading it from its snapshot and the events
    after gives the state folded from every event."""
    from warroom.domain.incidents.fold import fold
    from warroom.domain.shared.serial import to_data
    from warroom.storage import incident_store

    app = with_catalog(build_app(database_url))
    ingest = AlertIngest(app.context, AlertPolicy())
    written: list[tuple[int, int]] = []  # (version, interval) at each snapshot
    snapshot = incident_store.SqlIncidentStore._snapshot

    def spy(self: Any, state: Any) -> None:
        written.append((state.version, incident_store.snapshot_interval(state)))
        snapshot(self, state)

    monkeypatch.setattr(incident_store.SqlIncidentStore, "_snapshot", spy)
    for body in range(30):
        doc = _many(f"storm{body}-", 50)
        assert ingest.ingest(parse_alertmanager(doc), "am").changed == 50
    with app.context.uow() as uow:
        events = uow.incidents.events(1)
        loaded = uow.incidents.load(1)
    assert len(loaded.alerts) == 1500
    assert to_data(loaded) == to_data(fold(events))
    assert len(written) < len(events) // incident_store.SNAPSHOT_EVERY // 2  # was one per hundred
    assert incident_store.snapshot_interval(loaded) == 800  # 1,500 alerts: 100 doubled to reach 750
    # never further apart than the interval then, give or take one append's events
    for (before, _), (after, interval) in itertools.pairwise(written):
        assert after - before <= interval + 60
    assert len(events) - written[-1][0] <= incident_store.snapshot_interval(loaded) + 60


def test_a_database_in_another_encoding_stores_the_text_people_sent(build_app: Callable[..., App]) -> None:
    """The hot insert sends its text columns as binary arrays, which PostgreSQL reads in the
    client encoding: sessions speak UTF-8 whatever the database's own encoding, so a LATIN1
    database stores "Café", not "CafÃ©"."""
    import uuid

    import psycopg

    from tests.conftest import _admin_url, _unavailable, dispose

    base, admin = _admin_url()
    name = f"warroom_test_latin1_{uuid.uuid4().hex[:8]}"  # its own: not recycled for other tests
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(
                f"CREATE DATABASE \"{name}\" ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
            )
    except psycopg.OperationalError as exc:
        _unavailable(f"PostgreSQL unreachable: {str(exc).splitlines()[0]}")
    try:
        app = with_catalog(build_app(base.set(database=name).render_as_string(hide_password=False)))
        doc = _many("enc", 3)
        for alert in doc["alerts"]:
            alert["labels"] = alert["labels"] | {"team": "Café crème"}
            alert["annotations"] = alert["annotations"] | {"summary": "Débit réduit à 50 %"}
        assert AlertIngest(app.context, AlertPolicy()).ingest(parse_alertmanager(doc), "am").new == 3
        with app.context.uow() as uow:
            stored = uow.alerts.get("alertmanager", "enc1")
            assert stored is not None
            assert stored.labels["team"] == "Café crème"
            assert stored.summary == "Débit réduit à 50 %"
        dispose(app)
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_insert_probes_the_index_for_each_new_alert_rather_than_reading_every_alert(
    postgres_url: str, build_app: Callable[..., App]
) -> None:
    """The insert leaves out alerts already stored with a probe of the unique index each; as
    an anti-join the planner hashed the whole alerts table instead (at 8,000 alerts: 3.4 ms
    of a 360-alert insert's 7.8 ms, growing with the table). The statement, EXPLAINed as
    the ingest sends it, reads alerts only through the index even when the planner is
    steered away from nested loops (how it costs a join over a table whose statistics are
    stale or missing decides otherwise: a plan must not depend on it)."""
    from datetime import UTC, datetime

    from warroom.domain.alerts.transitions import transition
    from warroom.services.alerts.ingest import _moves, _Step

    app = with_catalog(build_app(postgres_url))
    ingest = AlertIngest(app.context, AlertPolicy())
    for n in range(20):
        ingest.ingest(parse_alertmanager(_many(f"h{n}-", 400)), "am")
    with app.context.uow() as uow:
        signals = parse_alertmanager(_many("new", 360)).signals
        steps = [_Step(s, transition(None, s), None, ingest.router.route(s.labels)) for s in signals]
        now = datetime.now(UTC)
        prepared = uow.alerts.prepare_insert(
            [(s.signal, s.route) for s in steps], now, {s.signal.fingerprint: _moves(s, now) for s in steps}
        )
        assert prepared.statement is not None
        sql, params = prepared.statement
        uow.alerts._rows("SET LOCAL enable_nestloop = off", ())
        plan = "\n".join(row[0] for row in uow.alerts._rows("EXPLAIN " + sql, params))
    assert "Seq Scan on alerts" not in plan, plan
    assert "uq_alerts_source_fingerprint on alerts" in plan, plan
