"""Times at the edges of the calendar in webhook bodies, on SQLite and PostgreSQL.

An alert's ``startsAt`` of year 1 used to declare an incident whose every read then failed
(``OverflowError`` in the change window), and on SQLite to break the signals queue. Now an
implausible alert time (before 1970, more than a day after receipt, beyond the calendar)
is set aside: the alert counts from its receipt and keeps the sent text in
``extra["implausible_times"]``; the body is still accepted, since Alertmanager does not
retry a 4xx. A change event's time is its meaning, so an implausible one is refused (400
naming the field).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from sqlalchemy import select

from warroom.domain.alerts.formats import (
    InvalidAlertPayload,
    parse_alertmanager,
    parse_change_event,
    parse_generic,
    parse_grafana,
    parse_pagerduty,
)
from warroom.domain.alerts.records import AlertRecord
from warroom.domain.shared.timefmt import iso
from warroom.storage.alert_tables import alerts

from .conftest import T0, Hooks, load

AM = "/hooks/alertmanager"
IMPLAUSIBLE = [
    "0001-01-01T00:00:01Z",  # the example
    "0001-01-01T00:00:00+01:00",  # no UTC equivalent at all
    "1969-12-31T23:59:59Z",
    "9999-12-31T23:59:59.999999Z",
    "2026-11-27T22:30:00.000001Z",  # a day and a microsecond after receipt
    "0000-01-01T00:00:00Z",  # Go's clock can write year 0
]


def stored(hooks: Hooks, fingerprint: str, source: str = "alertmanager") -> AlertRecord:
    with hooks.app.context.uow() as uow:
        found = uow.alerts.get(source, fingerprint)
    assert found is not None, fingerprint
    return found


def set_aside(hooks: Hooks, fingerprint: str, source: str = "alertmanager") -> Any:
    """The stored alert's ``extra["implausible_times"]``."""
    engine = hooks.app.context.uow.args[0]  # type: ignore[attr-defined]
    query = select(alerts.c.extra).where(alerts.c.source == source, alerts.c.fingerprint == fingerprint)
    with engine.connect() as conn:
        extra = conn.execute(query).scalar_one()
    return (json.loads(extra) if isinstance(extra, str) else extra).get("implausible_times")


def readable(hooks: Hooks, ref: str) -> dict[str, Any]:
    """Every read of the incident answers 200; the room's view is returned."""
    for path in ("", "/changes", "/triage", "/timeline"):
        answer = hooks.get(f"/api/v1/incidents/{ref}{path}")
        assert answer.status_code == 200, f"{path}: {answer.text}"
    room: dict[str, Any] = hooks.get(f"/api/v1/incidents/{ref}").json()
    return room


def with_start(value: str, **labels: str) -> dict[str, Any]:
    body = copy.deepcopy(load("alertmanager_firing.json"))
    body["alerts"][0]["startsAt"] = value
    body["alerts"][0]["labels"] |= labels
    return body


@pytest.mark.parametrize("value", IMPLAUSIBLE)
def test_an_implausible_start_declares_from_the_receipt_and_every_read_works(
    hooks: Hooks, value: str
) -> None:
    answer = hooks.post(AM, with_start(value))
    assert answer.status_code == 200, answer.text
    assert answer.json()["declared"] == ["INC-1"]
    room = readable(hooks, "INC-1")
    detected = room["milestones"]["detected_at"]
    assert detected["at"] == iso(T0)
    assert "received" in detected["evidence"]
    record = stored(hooks, "115c12e7e9840226")
    assert record.starts_at is None
    assert set_aside(hooks, "115c12e7e9840226") == {"startsAt": value}
    again = hooks.post(AM, with_start(value))  # a redelivery changes nothing
    assert again.json()["changed"] == 0, again.text


@pytest.mark.parametrize("value", IMPLAUSIBLE[:4])
def test_a_queued_alert_with_an_implausible_start_keeps_the_queue_readable(hooks: Hooks, value: str) -> None:
    answer = hooks.post(AM, with_start(value, severity="warning"))
    assert answer.json()["queued"] == 1, answer.text
    listed = hooks.get("/api/v1/signals", as_="vic")
    assert listed.status_code == 200, listed.text
    [group] = listed.json()
    assert group["firing_since"] is None and group["count"] == 1
    declared = hooks.post("/api/v1/signals/demo-shop/declare", {"severity": "SEV3", "why": "t"}, as_="alice")
    assert declared.status_code == 201, declared.text
    readable(hooks, "INC-1")


def test_an_implausible_end_resolves_at_the_receipt(hooks: Hooks, clock: Any) -> None:
    assert hooks.post(AM, load("alertmanager_firing.json")).status_code == 200
    clock.advance(minutes=5)
    resolved = copy.deepcopy(load("alertmanager_resolved.json"))
    resolved["alerts"][0]["endsAt"] = "0001-01-01T00:00:01Z"
    answer = hooks.post(AM, resolved)
    assert answer.status_code == 200, answer.text
    record = stored(hooks, resolved["alerts"][0]["fingerprint"])
    assert record.status == "resolved"
    assert record.ends_at == clock.now()
    readable(hooks, "INC-1")


@pytest.mark.parametrize(
    ("path", "body", "source", "fingerprint"),
    [
        ("/hooks/grafana", "grafana", "grafana", None),
        ("/hooks/generic", "generic", "generic", None),
        ("/hooks/pagerduty", "pagerduty", "pagerduty", None),
    ],
)
def test_every_alert_source_sets_an_implausible_time_aside(
    hooks: Hooks, path: str, body: str, source: str, fingerprint: str | None
) -> None:
    value = "0001-01-01T00:00:01Z"
    if body == "grafana":
        sent = copy.deepcopy(load("grafana_firing.json"))
        sent["alerts"][0]["startsAt"] = value
        key, where = sent["alerts"][0]["fingerprint"], "startsAt"
    elif body == "generic":
        sent = copy.deepcopy(load("generic_single.json")) | {"starts_at": value, "fingerprint": "g1"}
        key, where = "g1", "starts_at"
    else:
        sent = copy.deepcopy(load("pagerduty_trigger.json"))
        sent["payload"]["timestamp"] = value
        key, where = sent["dedup_key"], "payload.timestamp"
    answer = hooks.post(path, sent)
    assert answer.status_code in (200, 202), answer.text
    record = stored(hooks, key, source)
    assert record.starts_at is None
    assert set_aside(hooks, key, source) == {where: value}
    assert hooks.get("/api/v1/signals").status_code == 200
    for ref in answer.json().get("declared", []):
        readable(hooks, ref)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time": "0001-01-01T00:00:01Z"}, "time"),
        ({"time": "9999-12-31T23:59:59Z"}, "time"),
        ({"time": None, "data_finished_at": "1969-07-20T20:17:40Z"}, "data.finished_at"),
        # within the alerts' day of skew, but a change may lie only five minutes ahead
        ({"time": None, "data_finished_at": "2026-11-26T22:40:00Z"}, "data.finished_at"),
    ],
)
def test_a_change_event_with_an_implausible_time_is_refused_naming_it(
    hooks: Hooks, change: dict[str, Any], field: str
) -> None:
    event = copy.deepcopy(load("cloudevents_deploy_structured.json"))
    if "data_finished_at" in change:
        event.pop("time")
        event["data"]["finished_at"] = change["data_finished_at"]
    else:
        event["time"] = change["time"]
    answer = hooks.post("/hooks/changes", event)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert any(message.startswith(f"{field}: ") for message in answer.json()["errors"]), answer.json()
    with hooks.app.context.uow() as uow:
        assert uow.changes.between(["checkout-api"], T0.replace(year=1970), T0) == []


# --- the parsers, without a database ---------------------------------------------------------


def test_parsers_set_aside_implausible_alert_times_but_still_refuse_malformed_ones() -> None:
    body = with_start("9999-12-31T23:59:59Z")
    [signal] = parse_alertmanager(body, now=T0).signals
    assert signal.starts_at is None and signal.extra == {
        "implausible_times": {"startsAt": "9999-12-31T23:59:59Z"}
    }
    [kept] = parse_alertmanager(with_start("2026-11-27T22:29:59Z"), now=T0).signals  # within a day: skew
    assert kept.starts_at is not None and "implausible_times" not in kept.extra
    [no_clock] = parse_alertmanager(with_start("1969-12-31T23:59:59Z")).signals  # 1970 needs no clock
    assert no_clock.starts_at is None
    with pytest.raises(InvalidAlertPayload) as raised:
        parse_alertmanager(with_start("yesterday"), now=T0)
    assert raised.value.errors[0].startswith("alerts[0].startsAt: ")
    grafana = copy.deepcopy(load("grafana_firing.json"))
    grafana["alerts"][0]["endsAt"] = "0001-01-01T00:00:01Z"
    [from_grafana] = parse_grafana(grafana, now=T0).signals
    assert from_grafana.extra["implausible_times"] == {"endsAt": "0001-01-01T00:00:01Z"}
    generic = load("generic_single.json") | {"ends_at": "+10000-01-01T00:00:00Z"}  # beyond datetime
    [from_generic] = parse_generic(generic, now=T0).signals
    assert from_generic.ends_at is None
    assert from_generic.extra["implausible_times"] == {"ends_at": "+10000-01-01T00:00:00Z"}
    trigger = copy.deepcopy(load("pagerduty_trigger.json"))
    trigger["payload"]["timestamp"] = "0000-01-01T00:00:00Z"
    [paged] = parse_pagerduty(trigger, new_key=lambda: "k", now=T0).signals
    assert paged.starts_at is None and paged.extra["implausible_times"] == {
        "payload.timestamp": "0000-01-01T00:00:00Z"
    }
    event = copy.deepcopy(load("cloudevents_deploy_structured.json")) | {
        "time": "2026-11-26T22:35:00.000001Z"
    }
    with pytest.raises(InvalidAlertPayload) as refused:
        parse_change_event([event], now=T0)
    assert refused.value.errors == [
        "[0].time: 2026-11-26T22:35:00.000001Z is in the future (now is 2026-11-26T22:30:00.000000Z)"
    ]
