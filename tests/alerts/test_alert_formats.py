"""Alertmanager, Grafana and generic bodies, plus what every parser does with hostile input.

PagerDuty and CloudEvents have their own files beside this one.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from warroom.domain.alerts.formats import (
    InvalidAlertPayload,
    ParsedBatch,
    parse_alert_body,
    parse_alertmanager,
    parse_change_event,
    parse_generic,
    parse_grafana,
    parse_pagerduty,
)
from warroom.domain.alerts.signals import ALERT_SOURCES, generic_fingerprint

FIXTURES = Path(__file__).parent.parent / "fixtures" / "webhooks"
NOW = datetime(2026, 11, 26, 22, 30, tzinfo=UTC)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def errors_of(parse: Callable[[Any], object], body: object) -> list[str]:
    with pytest.raises(InvalidAlertPayload) as raised:
        parse(body)
    return raised.value.errors


def am_alert(**changes: object) -> dict[str, Any]:
    alert: dict[str, Any] = copy.deepcopy(load("alertmanager_firing.json")["alerts"][0])
    alert.update(changes)
    return alert


def am_body(*alerts: object) -> dict[str, Any]:
    body: dict[str, Any] = load("alertmanager_firing.json")
    body["alerts"] = list(alerts)
    return body


# Alertmanager


def test_the_captured_alertmanager_body_becomes_one_firing_signal() -> None:
    batch = parse_alertmanager(load("alertmanager_firing.json"))

    [signal] = batch.signals
    assert signal.source == "alertmanager"
    assert signal.fingerprint == "115c12e7e9840226"
    assert signal.status == "firing"
    assert signal.labels["route"] == "/api/checkout"
    assert signal.annotations["runbook_url"].startswith("https://runbooks.example.com/")
    assert signal.starts_at == datetime(2026, 11, 26, 22, 26, 25, 600000, tzinfo=UTC)
    assert signal.ends_at is None
    assert signal.summary == "High 5xx ratio on demo-shop /api/checkout"
    assert signal.severity == "critical"
    assert signal.generator_url is not None and "&g0.tab=1" in signal.generator_url
    assert signal.group_key == '{}:{alertname="DemoHighErrorRatio", service="demo-shop"}'


def test_the_alertmanager_batch_keeps_what_the_body_says_about_the_group() -> None:
    batch = parse_alertmanager(load("alertmanager_firing.json"))

    assert batch.status == "firing"
    assert batch.group_key == '{}:{alertname="DemoHighErrorRatio", service="demo-shop"}'
    assert batch.receiver == "incident-webhook"
    assert batch.truncated_alerts == 0
    assert batch.external_url == "http://127.0.0.1:19093"
    assert batch.group_labels == {"alertname": "DemoHighErrorRatio", "service": "demo-shop"}
    assert batch.common_labels["team"] == "storefront"
    assert "summary" in batch.common_annotations


def test_the_resolved_report_keeps_the_fingerprint_and_sets_the_end() -> None:
    firing = parse_alertmanager(load("alertmanager_firing.json")).signals[0]
    resolved = parse_alertmanager(load("alertmanager_resolved.json")).signals[0]

    assert resolved.status == "resolved"
    assert resolved.fingerprint == firing.fingerprint
    assert resolved.ends_at == datetime(2026, 11, 26, 22, 31, 10, 600000, tzinfo=UTC)


def test_a_resolved_alert_inside_a_firing_body_stays_resolved() -> None:
    batch = parse_alertmanager(load("alertmanager_firing_with_resolved_alert.json"))

    assert batch.status == "firing"
    assert [(s.labels["route"], s.status) for s in batch.signals] == [
        ("/api/checkout", "firing"),
        ("/api/search", "resolved"),
        ("/api/cart", "firing"),
    ]
    assert batch.signals[1].ends_at == datetime(2026, 11, 26, 22, 27, 35, 600000, tzinfo=UTC)


def test_an_alert_without_fingerprint_is_keyed_by_its_labels() -> None:
    alert = am_alert()
    del alert["fingerprint"]

    [signal] = parse_alertmanager(am_body(alert)).signals

    assert signal.fingerprint == generic_fingerprint(alert["labels"])


def test_truncated_alerts_are_reported() -> None:
    body = load("alertmanager_firing.json") | {"truncatedAlerts": 7}

    assert parse_alertmanager(body).truncated_alerts == 7


def test_nanosecond_times_with_offsets_are_read_as_utc() -> None:
    alert = am_alert(startsAt="2026-11-26T23:26:25.123456789+01:00")

    [signal] = parse_alertmanager(am_body(alert)).signals

    assert signal.starts_at == datetime(2026, 11, 26, 22, 26, 25, 123456, tzinfo=UTC)


def test_unknown_fields_are_tolerated() -> None:
    body = load("alertmanager_firing.json") | {"futureField": {"nested": [1, 2]}}
    body["alerts"][0]["somethingNew"] = True

    assert len(parse_alertmanager(body).signals) == 1


def test_a_body_of_another_version_is_refused() -> None:
    body = load("alertmanager_firing.json") | {"version": "1"}

    assert errors_of(parse_alertmanager, body) == ["version: must be \"4\" for alertmanager, not '1'"]


def test_an_alert_with_an_unknown_status_is_refused() -> None:
    errors = errors_of(parse_alertmanager, am_body(am_alert(status="pending")))

    assert errors == ["alerts[0].status: must be one of firing, resolved, not 'pending'"]


# Grafana


def test_the_grafana_example_keeps_its_links_and_values_in_extra() -> None:
    batch = parse_grafana(load("grafana_firing.json"))

    [signal] = batch.signals
    assert signal.source == "grafana"
    assert signal.fingerprint == "4c2a1e9b77d03f61"
    assert signal.summary == "5xx ratio 18% on checkout (eu-west)"
    assert signal.severity == "critical"
    assert signal.labels["grafana_folder"] == "storefront"
    assert signal.extra["values"] == {"B": 0.1812, "C": 1}
    assert signal.extra["panel_url"] == "https://grafana.example.com/d/checkout-red?orgId=1&viewPanel=4"
    assert str(signal.extra["silence_url"]).startswith("https://grafana.example.com/alerting/silence")
    assert batch.extra["state"] == "alerting"
    assert batch.extra["org_id"] == 1
    assert str(batch.extra["title"]).startswith("[FIRING:1]")
    assert batch.group_key is not None and "__grafana_autogenerated__" in batch.group_key


def test_grafana_empty_links_and_null_values_are_left_out() -> None:
    body = load("grafana_firing.json")
    body["alerts"][0] |= {"dashboardURL": "", "panelURL": "", "values": None}

    extra = parse_grafana(body).signals[0].extra

    assert "dashboard_url" not in extra and "panel_url" not in extra and "values" not in extra


def test_a_grafana_custom_payload_without_alerts_is_refused_naming_alerts() -> None:
    custom = {"text": "CheckoutErrorRatio is firing", "severity": "critical"}

    [error] = errors_of(parse_grafana, custom)

    assert error.startswith("alerts: is required")
    assert "custom payload" in error


# Generic


def test_a_single_generic_alert_becomes_one_signal() -> None:
    [signal] = parse_generic(load("generic_single.json")).signals

    assert signal.source == "generic"
    assert signal.status == "firing"
    assert signal.summary == "Payment queue backlog above 10k for 5m"
    assert signal.severity == "warning"
    assert signal.starts_at == datetime(2026, 11, 26, 21, 15, tzinfo=UTC)
    assert signal.fingerprint == generic_fingerprint(signal.labels)


def test_a_generic_batch_accepts_both_spellings_and_normalizes_severity() -> None:
    batch = parse_generic(load("generic_batch.json"))

    first, second = batch.signals
    assert batch.group_key == "payments/backlog"
    assert (first.fingerprint, first.severity, first.group_key) == (
        "payments-backlog-1",
        "critical",
        "payments/backlog",
    )
    assert (second.status, second.severity, second.summary) == ("resolved", "info", "QueueBacklog")
    assert second.ends_at == datetime(2026, 11, 26, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("alert", "error"),
    [
        ({}, "labels: is required"),
        ({"labels": {}}, "labels: must have at least one entry"),
        ({"labels": {"a": "b"}, "status": "open"}, "status: must be one of firing, resolved"),
        ({"labels": {"a": "b"}, "severity": "meh"}, "severity: must be one of critical"),
        (
            {"labels": {"a": "b"}, "starts_at": "2026-01-01T00:00:00Z", "startsAt": "x"},
            "starts_at: give either starts_at or startsAt, not both",
        ),
        ({"labels": {"a": "b"}, "summary": 3}, "summary: must be a string, not a number"),
    ],
)
def test_generic_alerts_are_checked_field_by_field(alert: dict[str, Any], error: str) -> None:
    [message] = errors_of(parse_generic, alert)

    assert message.startswith(error)


def test_generic_errors_in_a_batch_name_the_alert() -> None:
    body = {"alerts": [{"labels": {"a": "b"}}, {"labels": {"a": 1}}]}

    assert errors_of(parse_generic, body) == ["alerts[1].labels.a: must be a string, not a number"]


def test_parse_alert_body_picks_the_parser_by_source() -> None:
    batch = parse_alert_body("grafana", load("grafana_firing.json"), new_key=lambda: "unused", now=NOW)

    assert batch.source == "grafana"


# Hostile input, every parser


def _pagerduty(body: object) -> ParsedBatch:
    return parse_pagerduty(body, new_key=lambda: "generated")


@pytest.mark.parametrize(
    "parse", [parse_alertmanager, parse_grafana, parse_generic, _pagerduty], ids=lambda f: f.__name__
)
@pytest.mark.parametrize(
    ("body", "kind"),
    [([], "an array"), ("alerts", "a string"), (None, "null"), (4, "a number"), (True, "a boolean")],
)
def test_a_body_that_is_not_an_object_is_refused(
    parse: Callable[[object], object], body: object, kind: str
) -> None:
    assert errors_of(parse, body) == [f"body: must be a JSON object, not {kind}"]


def test_a_change_body_that_is_neither_event_nor_batch_is_refused() -> None:
    assert errors_of(parse_change_event, "deploy") == [
        "body: must be a CloudEvent object or an array of them, not a string"
    ]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"labels": ["a", "b"]}, "alerts[0].labels: must be an object of strings, not an array"),
        ({"labels": {"severity": 5}}, "alerts[0].labels.severity: must be a string, not a number"),
        (
            {"labels": {"team": {"name": {"deep": "x"}}}},
            "alerts[0].labels.team: must be a string, not an object",
        ),
        ({"labels": {"": "x"}}, "alerts[0].labels: has an empty name"),
        ({"labels": {"k8s.io/app": None}}, 'alerts[0].labels["k8s.io/app"]: must be a string'),
        ({"annotations": "text"}, "alerts[0].annotations: must be an object of strings"),
        ({"labels": None}, "alerts[0].labels: is required"),
        ({"status": None}, "alerts[0].status: is required"),
        ({"startsAt": 1764196000}, "alerts[0].startsAt: must be an RFC 3339 time string"),
        ({"startsAt": "yesterday"}, "alerts[0].startsAt: 'yesterday' is not an RFC 3339 time"),
        ({"generatorURL": ["x"]}, "alerts[0].generatorURL: must be a string, not an array"),
        ({"fingerprint": "f" * 256}, "alerts[0].fingerprint: is too long"),
        ({"labels": {"job": "a\x00b"}}, "alerts[0].labels.job: must not contain NUL characters"),
        ({"annotations": {"x": "\ud800"}}, "alerts[0].annotations.x: must be valid Unicode"),
        ({"labels": {"\udfff": "x"}}, "alerts[0].labels: has a name that must be valid Unicode"),
        ({"fingerprint": "\x00"}, "alerts[0].fingerprint: must not contain NUL characters"),
    ],
)
def test_wrong_types_are_refused_naming_the_json_path(change: dict[str, Any], error: str) -> None:
    [message] = errors_of(parse_alertmanager, am_body(am_alert(**change)))

    assert message.startswith(error)


def test_a_naive_time_is_refused_because_its_zone_would_be_a_guess() -> None:
    body = am_body(am_alert(startsAt="2026-11-26T22:26:25"))

    assert errors_of(parse_alertmanager, body) == [
        "alerts[0].startsAt: '2026-11-26T22:26:25' has no timezone; add Z or an offset such as +00:00"
    ]


def test_label_values_over_four_kib_are_refused() -> None:
    alert = am_alert(labels={"alertname": "X", "blob": "é" * 2049})  # 4098 bytes in UTF-8

    assert errors_of(parse_alertmanager, am_body(alert)) == [
        "alerts[0].labels.blob: is too long (more than 4096 bytes)"
    ]


def test_annotation_values_of_exactly_four_kib_are_accepted() -> None:
    alert = am_alert(annotations={"description": "x" * 4096})

    assert parse_alertmanager(am_body(alert)).signals[0].annotations["description"] == "x" * 4096


def test_more_than_a_hundred_labels_are_refused() -> None:
    alert = am_alert(labels={f"l{i}": "v" for i in range(101)})

    assert errors_of(parse_alertmanager, am_body(alert)) == [
        "alerts[0].labels: has 101 entries, more than the limit of 100"
    ]


def test_a_huge_label_name_is_shortened_in_messages() -> None:
    name = "n" * 1000
    alert = am_alert(labels={"alertname": "X", name: 7})

    [message] = errors_of(parse_alertmanager, am_body(alert))

    assert message == f'alerts[0].labels["{"n" * 61}..."]: must be a string, not a number'


def test_every_problem_of_a_body_is_reported_at_once() -> None:
    body = am_body(am_alert(status="up"), "not an alert", am_alert(labels={}))
    body["truncatedAlerts"] = -1

    assert errors_of(parse_alertmanager, body) == [
        "alerts[0].status: must be one of firing, resolved, not 'up'",
        "alerts[1]: must be a JSON object, not a string",
        "alerts[2].labels: must have at least one entry",
        "truncatedAlerts: must be a non-negative integer",
    ]


def test_a_flood_of_bad_alerts_gives_a_bounded_list_of_messages() -> None:
    body = am_body(*[am_alert(status=None) for _ in range(1000)])

    errors = errors_of(parse_alertmanager, body)

    assert len(errors) == 51
    assert errors[-1] == "... and 950 more errors"


def test_alerts_that_are_not_a_list_are_refused() -> None:
    body = load("alertmanager_firing.json") | {"alerts": {"0": {}}}

    assert errors_of(parse_alertmanager, body) == ["alerts: must be an array of alerts, not an object"]


def test_a_truncated_alerts_count_that_is_a_boolean_is_refused() -> None:
    body = load("alertmanager_firing.json") | {"truncatedAlerts": True}

    assert errors_of(parse_alertmanager, body) == ["truncatedAlerts: must be a non-negative integer"]


# The sender-facing documentation cannot drift from the parsers

DOCS = Path(__file__).parent.parent.parent / "docs" / "webhooks.md"


def test_every_webhook_source_has_its_section_in_the_docs() -> None:
    text = DOCS.read_text(encoding="utf-8")

    for path in [*(f"/hooks/{source}" for source in ALERT_SOURCES), "/hooks/changes"]:
        assert f"`POST {path}`" in text, f"docs/webhooks.md has no section for {path}"


def test_the_json_examples_in_the_docs_parse() -> None:
    blocks = re.findall(r"```json\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    generic, change = (json.loads(block) for block in blocks)

    assert parse_generic(generic).signals[0].fingerprint == "payments-backlog"
    assert parse_change_event(change)[0].summary == "checkout-api v2.13.2 → v2.14.0 (succeeded)"
