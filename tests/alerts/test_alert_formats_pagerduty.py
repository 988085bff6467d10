"""PagerDuty Events v2 enqueue bodies: validated like PagerDuty, mapped to signals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from warroom.domain.alerts.formats import (
    InvalidAlertPayload,
    ParsedBatch,
    parse_pagerduty,
    parse_pagerduty_change,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "webhooks"
ROUTING_KEY = "R0UTINGKEYEXAMPLE000000000000032"
DEDUP_KEY = 'demo-shop/DemoHighErrorRatio/{}:{alertname="DemoHighErrorRatio", service="demo-shop"}'


class KeyFactory:
    """Hands out predictable dedup keys and counts how often it was asked."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return f"generated-{self.calls}"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def parse(body: object) -> ParsedBatch:
    return parse_pagerduty(body, new_key=KeyFactory())


def errors_of(body: object) -> list[str]:
    with pytest.raises(InvalidAlertPayload) as raised:
        parse(body)
    return raised.value.errors


def trigger(**payload_changes: object) -> dict[str, Any]:
    body: dict[str, Any] = load("pagerduty_trigger.json")
    body["payload"].update(payload_changes)
    return body


def test_a_trigger_maps_summary_severity_time_and_labels() -> None:
    batch = parse(load("pagerduty_trigger.json"))

    [signal] = batch.signals
    assert signal.source == "pagerduty"
    assert signal.status == "firing"
    assert signal.fingerprint == DEDUP_KEY
    assert signal.summary == "High 5xx ratio on demo-shop /api/checkout (35.7%)"
    assert signal.severity == "critical"
    assert signal.starts_at == datetime(2026, 11, 26, 22, 21, 42, 600000, tzinfo=UTC)
    assert signal.labels == {
        "source": "demo-shop.prod.example.com",
        "component": "checkout-api",
        "group": "storefront",
        "class": "http-5xx",
        "error_ratio": "0.3568",
        "threshold": "0.05",
        "last_deploy": "checkout-api v2.14.0 at 2026-11-26T22:20:55Z",
        "alertmanager_fingerprint": "115c12e7e9840226",
    }
    assert batch.dedup_key == DEDUP_KEY
    assert batch.dedup_key_generated is False


def test_a_trigger_keeps_routing_key_action_client_links_and_all_custom_details() -> None:
    extra = parse(load("pagerduty_trigger.json")).signals[0].extra

    assert extra["routing_key"] == "****0032"  # the key is a credential: its last four only
    assert extra["event_action"] == "trigger"
    assert extra["client"] == "incident-service"
    assert extra["links"] == [
        {"href": "https://runbooks.example.com/demo-shop/high-error-ratio", "text": "Runbook"}
    ]
    details = extra["custom_details"]
    assert isinstance(details, dict)
    assert details["regions"] == ["us-east", "eu-west", "ap-south"]


def test_an_acknowledge_stays_firing_and_says_so_in_extra() -> None:
    [signal] = parse(load("pagerduty_acknowledge.json")).signals

    assert signal.status == "firing"
    assert signal.extra["event_action"] == "acknowledge"
    assert signal.fingerprint == DEDUP_KEY
    assert signal.summary == f"acknowledge {DEDUP_KEY}"


def test_a_resolve_resolves_the_alert_with_the_same_key() -> None:
    [signal] = parse(load("pagerduty_resolve.json")).signals

    assert signal.status == "resolved"
    assert signal.fingerprint == DEDUP_KEY
    assert signal.labels == {}


@pytest.mark.parametrize("action", ["trigger", "acknowledge", "resolve"])
def test_the_documented_examples_are_refused_for_their_33_character_routing_key(
    action: str,
) -> None:
    errors = errors_of(load(f"pagerduty_{action}_as_documented.json"))

    assert errors == ["Length of 'routing_key' is incorrect (should be 32 characters)"]


def test_a_trigger_without_dedup_key_gets_a_generated_one_to_return() -> None:
    body = load("pagerduty_trigger.json")
    del body["dedup_key"]
    keys = KeyFactory()

    batch = parse_pagerduty(body, new_key=keys)

    assert keys.calls == 1
    assert batch.dedup_key == "generated-1"
    assert batch.dedup_key_generated is True
    assert batch.signals[0].fingerprint == "generated-1"
    assert batch.signals[0].extra["dedup_key_generated"] is True


def test_no_key_is_generated_when_the_sender_gave_one_or_the_event_is_invalid() -> None:
    keys = KeyFactory()
    parse_pagerduty(load("pagerduty_trigger.json"), new_key=keys)
    with pytest.raises(InvalidAlertPayload):
        parse_pagerduty({"event_action": "trigger"}, new_key=keys)

    assert keys.calls == 0


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_acknowledge_and_resolve_need_a_dedup_key(action: str) -> None:
    body = {"routing_key": ROUTING_KEY, "event_action": action, "dedup_key": "  "}

    assert errors_of(body) == ["'dedup_key' is missing or blank"]


def test_acknowledge_ignores_any_payload_it_carries() -> None:
    body = load("pagerduty_acknowledge.json") | {"payload": {"severity": "nonsense"}}

    assert parse(body).signals[0].severity is None


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"routing_key": None}, "'routing_key' is missing or blank"),
        ({"routing_key": 32}, "'routing_key' must be a string"),
        (
            {"routing_key": "R0UTINGKEY-EXAMPLE_0000000000032"},
            "'routing_key' cannot contain non-alphanumeric characters.",
        ),
        ({"event_action": None}, "'event_action' is missing or blank"),
        (
            {"event_action": "escalate"},
            "'event_action' is invalid (should be one of trigger, acknowledge, resolve)",
        ),
        ({"dedup_key": 42}, "'dedup_key' must be a string"),
        (
            {"dedup_key": "k" * 256},
            "Length of 'dedup_key' is incorrect (should be at most 255 characters)",
        ),
        ({"dedup_key": "key\x00"}, "'dedup_key' must not contain NUL characters"),
        ({"payload": None}, "'payload' is missing or blank"),
        ({"payload": "High 5xx"}, "'payload' must be an object"),
        ({"links": {"href": "x"}}, "'links' must be an array"),
        ({"client": 7}, "'client' must be a string of at most 16384 bytes"),
    ],
)
def test_envelope_errors_use_pagerduty_wording(change: dict[str, Any], error: str) -> None:
    body = load("pagerduty_trigger.json") | change

    assert errors_of(body) == [error]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"summary": ""}, "'payload.summary' is missing or blank"),
        (
            {"summary": "x" * 1025},
            "Length of 'payload.summary' is incorrect (should be at most 1024 characters)",
        ),
        ({"source": None}, "'payload.source' is missing or blank"),
        ({"severity": None}, "'payload.severity' is missing or blank"),
        (
            {"severity": "fatal"},
            "'payload.severity' is invalid (should be one of critical, error, warning, info)",
        ),
        ({"component": ["checkout"]}, "'payload.component' must be a string"),
        (
            {"summary": "bad \ud800 text"},
            "'payload.summary' must be valid Unicode (it contains a lone surrogate)",
        ),
        (
            {"custom_details": {"note": "a\x00"}},
            "payload.custom_details.note: must not contain NUL characters",
        ),
        (
            {"group": "g" * 4097},
            "Length of 'payload.group' is incorrect (should be at most 4096 bytes)",
        ),
        (
            {"timestamp": "2026-11-26T22:21:42"},
            "'payload.timestamp' is invalid: '2026-11-26T22:21:42' has no timezone; "
            "add Z or an offset such as +00:00",
        ),
    ],
)
def test_trigger_payload_errors_use_pagerduty_wording(change: dict[str, Any], error: str) -> None:
    assert errors_of(trigger(**change)) == [error]


def test_a_trigger_missing_every_payload_field_hears_about_each() -> None:
    body = {"routing_key": ROUTING_KEY, "event_action": "trigger", "payload": {}}

    assert errors_of(body) == [
        "'payload.summary' is missing or blank",
        "'payload.severity' is missing or blank",
        "'payload.source' is missing or blank",
    ]


def test_pagerduty_offset_timestamps_without_colon_are_accepted() -> None:
    [signal] = parse(trigger(timestamp="2015-07-17T08:42:58.315+0000")).signals

    assert signal.starts_at == datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)


def test_custom_details_never_override_payload_labels_and_skip_non_scalars() -> None:
    details = {"source": "spoofed", "up": False, "count": 3, "none": None, "nested": {"a": 1}}

    labels = parse(trigger(custom_details=details)).signals[0].labels

    assert labels["source"] == "demo-shop.prod.example.com"
    assert (labels["up"], labels["count"]) == ("false", "3")
    assert "none" not in labels and "nested" not in labels


def test_custom_details_beyond_the_label_limits_stay_in_extra_only() -> None:
    details = {f"d{i}": "v" for i in range(200)} | {"huge": "x" * 5000}

    signal = parse(trigger(custom_details=details)).signals[0]

    assert len(signal.labels) == 100
    assert "huge" not in signal.labels
    assert isinstance(signal.extra["custom_details"], dict)
    assert len(signal.extra["custom_details"]) == 201


def test_deeply_nested_custom_details_are_refused_without_recursing_forever() -> None:
    nested: Any = "bottom"
    for _ in range(5000):
        nested = {"n": nested}

    [error] = errors_of(trigger(custom_details=nested))

    assert error.startswith("payload.custom_details.n.n.")
    assert error.endswith("is nested more than 32 levels deep")


# --- the integration key's service, and change events (/v2/change/enqueue) ---------------------

CHANGE = {
    "routing_key": ROUTING_KEY,
    "payload": {
        "summary": "Build Success: Increase snapshot create timeout to 30 seconds",
        "timestamp": "2020-07-17T08:42:58.315+0000",
        "source": "acme-build-pipeline-tool-default-i-9999",
        "custom_details": {"build_state": "passed", "build_number": "2", "run_time": "1236s"},
    },
    "links": [{"href": "https://acme.pagerduty.dev/build/2", "text": "View more details in Acme!"}],
}


def test_the_integration_keys_service_is_the_service_label_of_every_action() -> None:
    body = load("pagerduty_trigger.json")
    body["payload"]["custom_details"]["service"] = "elsewhere"
    trigger = parse_pagerduty(body, new_key=KeyFactory(), service="checkout")
    assert trigger.signals[0].labels["service"] == "checkout"
    assert trigger.signals[0].labels["component"] == "checkout-api"
    resolve = {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "k"}
    assert parse_pagerduty(resolve, new_key=KeyFactory(), service="checkout").signals[0].labels == {
        "service": "checkout"
    }
    assert parse_pagerduty(resolve, new_key=KeyFactory()).signals[0].labels == {}


def test_pagerdutys_documented_change_event_is_a_deploy_on_the_keys_service() -> None:
    change = parse_pagerduty_change(CHANGE, service="checkout", new_key=KeyFactory())
    assert (change.service, change.kind, change.summary) == (
        "checkout",
        "deploy",
        "Build Success: Increase snapshot create timeout to 30 seconds",
    )
    assert change.at == datetime(2020, 7, 17, 8, 42, 58, 315000, tzinfo=UTC)
    assert change.details["custom_details"] == CHANGE["payload"]["custom_details"]  # type: ignore[index]
    assert change.details["links"] == CHANGE["links"]
    assert ROUTING_KEY not in json.dumps(dict(change.details)) + change.dedup_key
    again = parse_pagerduty_change(dict(CHANGE), service="checkout", new_key=KeyFactory())
    assert again.dedup_key == change.dedup_key  # a client's retry is the same change
    other = parse_pagerduty_change(CHANGE, service="payments", new_key=KeyFactory())
    assert other.dedup_key != change.dedup_key


def test_a_change_without_a_timestamp_is_never_merged_with_another() -> None:
    body = json.loads(json.dumps(CHANGE))
    del body["payload"]["timestamp"]
    keys = KeyFactory()
    first = parse_pagerduty_change(body, service="checkout", new_key=keys)
    second = parse_pagerduty_change(body, service="checkout", new_key=keys)
    assert first.at is None and first.dedup_key != second.dedup_key


def test_a_change_names_its_service_and_kind_in_custom_details_when_the_key_has_none() -> None:
    body = json.loads(json.dumps(CHANGE))
    body["payload"]["custom_details"] |= {"service": "payments", "kind": "flag"}
    change = parse_pagerduty_change(body, service=None, new_key=KeyFactory())
    assert (change.service, change.kind) == ("payments", "flag")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"payload": None}, "'payload' is missing or blank"),
        ({"payload": {"summary": ""}}, "'payload.summary' is missing or blank"),
        ({"payload": {"summary": "x" * 1025}}, "Length of 'payload.summary' is incorrect"),
        ({"payload": {"summary": "x", "timestamp": "2020-07-17T08:42:58"}}, "'payload.timestamp' is invalid"),
        ({"routing_key": "short"}, "Length of 'routing_key' is incorrect (should be 32 characters)"),
        ({"links": {}}, "'links' must be an array"),
    ],
)
def test_an_invalid_change_is_refused_in_pagerdutys_words(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidAlertPayload) as raised:
        parse_pagerduty_change(CHANGE | change, service="checkout", new_key=KeyFactory())
    assert any(error.startswith(message) for error in raised.value.errors), raised.value.errors


def test_a_change_with_no_service_anywhere_is_refused() -> None:
    with pytest.raises(InvalidAlertPayload) as raised:
        parse_pagerduty_change(CHANGE, service=None, new_key=KeyFactory())
    assert raised.value.errors == [
        "the change names no service: give the integration key a service, "
        "or send 'payload.custom_details.service'"
    ]
