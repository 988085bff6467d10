"""CloudEvents 1.0 change events, structured and binary, into ChangeSignals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from warroom.domain.alerts.formats import ChangeSignal, InvalidAlertPayload, parse_change_event

FIXTURES = Path(__file__).parent.parent / "fixtures" / "webhooks"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def deploy(**changes: object) -> dict[str, Any]:
    event: dict[str, Any] = load("cloudevents_deploy_structured.json")
    event.update(changes)
    return event


def binary() -> tuple[dict[str, str], Any]:
    request = load("cloudevents_config_binary.json")
    return request["headers"], request["data"]


def errors_of(body: object, headers: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(InvalidAlertPayload) as raised:
        parse_change_event(body, headers=headers)
    return raised.value.errors


def only(signals: list[ChangeSignal]) -> ChangeSignal:
    [signal] = signals
    return signal


def test_a_structured_deploy_event_becomes_a_deploy_change() -> None:
    signal = only(parse_change_event(load("cloudevents_deploy_structured.json")))

    assert signal.dedup == (
        "https://ci.example.com/pipelines/checkout-api",
        "deploy-7f3c2a91-prod-eu-west",
    )
    assert signal.service == "checkout-api"
    assert signal.kind == "deploy"
    assert signal.at == datetime(2026, 11, 26, 22, 20, 55, tzinfo=UTC)
    assert signal.summary == "checkout-api v2.13.2 → v2.14.0 (succeeded)"
    assert signal.details["environment"] == "prod"
    assert signal.details["type"] == "com.example.deploy.finished.v1"
    data = signal.details["data"]
    assert isinstance(data, dict) and data["rollback_command"] == (
        "deployctl rollback checkout-api --to v2.13.2"
    )


def test_a_binary_config_event_reads_its_attributes_from_ce_headers() -> None:
    headers, data = binary()

    signal = only(parse_change_event(data, headers=headers))

    assert signal.dedup == ("/config-service/prod", "cfg-000184")
    assert signal.service == "checkout-api"
    assert signal.kind == "config"
    assert signal.at == datetime(2026, 11, 26, 22, 24, 10, tzinfo=UTC)
    assert signal.summary == "checkout.new_payment_flow: 10% → 100%"
    assert signal.details["environment"] == "prod"
    assert signal.details["datacontenttype"] == "application/json"


def test_binary_headers_are_matched_in_any_case_and_percent_decoded() -> None:
    headers, data = binary()
    headers = {name.upper(): value for name, value in headers.items()}
    headers["CE-ID"] = "cfg%2F184%20%22b%22"

    signal = only(parse_change_event(data, headers=headers))

    assert signal.dedup[1] == 'cfg/184 "b"'


def test_a_header_that_is_not_utf8_once_decoded_is_refused() -> None:
    headers, data = binary()
    headers["ce-id"] = "cfg-%FF"

    assert errors_of(data, headers) == ["ce-id: is not valid percent-encoded UTF-8"]


def test_ce_headers_beside_a_cloudevents_content_type_are_ignored() -> None:
    headers = {"Content-Type": "application/cloudevents+json; charset=UTF-8", "ce-id": "other"}

    signal = only(parse_change_event(load("cloudevents_deploy_structured.json"), headers=headers))

    assert signal.dedup[1] == "deploy-7f3c2a91-prod-eu-west"


def test_a_batch_gives_one_change_per_event() -> None:
    second = deploy(id="deploy-2", data={"service": "cart", "version": "v9"})

    signals = parse_change_event([deploy(), second])

    assert [s.dedup[1] for s in signals] == ["deploy-7f3c2a91-prod-eu-west", "deploy-2"]
    assert signals[1].summary == "cart v9"


def test_errors_in_a_batch_name_the_event_by_index() -> None:
    assert errors_of([deploy(), deploy(id=""), 3]) == [
        "[1].id: must not be empty",
        "[2]: must be a JSON object, not a number",
    ]


def test_null_attributes_count_as_absent() -> None:
    event = deploy(subject=None, time=None, dataschema=None)

    signal = only(parse_change_event(event))

    assert signal.at == datetime(2026, 11, 26, 22, 20, 55, tzinfo=UTC)  # data.finished_at
    assert "subject" not in signal.details and "dataschema" not in signal.details


def test_an_event_without_any_time_leaves_at_empty_for_the_caller() -> None:
    event = deploy(time=None, data={"service": "cart"})

    assert only(parse_change_event(event)).at is None


def test_missing_required_attributes_are_all_named() -> None:
    event = {"data": {"service": "cart"}, "type": None}

    assert errors_of(event) == [
        "specversion: is required",
        "id: is required",
        "source: is required",
        "type: is required",
    ]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"specversion": "0.3"}, "specversion: must be \"1.0\", not '0.3'"),
        ({"specversion": 1.0}, 'specversion: must be "1.0", not 1.0'),
        ({"id": 7}, "id: must be a string, not a number"),
        ({"subject": ""}, "subject: must not be empty"),
        ({"time": "2026-11-26T22:20:55"}, "time: '2026-11-26T22:20:55' has no timezone"),
        ({"time": 1764195655}, "time: must be an RFC 3339 time string"),
        ({"data_base64": "aGk="}, "data_base64: must not be sent together with data"),
        ({"source": "s" * 5000}, "source: is too long (more than 4096 bytes)"),
        ({"id": "deploy\x00"}, "id: must not contain NUL characters"),
        ({"data": {"service": "cart", "by": "\ud800"}}, "data.by: must be valid Unicode"),
    ],
)
def test_attribute_errors_name_the_attribute(change: dict[str, Any], error: str) -> None:
    [message] = errors_of(deploy(**change))

    assert message.startswith(error)


def test_binary_mode_errors_name_the_header() -> None:
    headers, data = binary()
    del headers["ce-source"]
    headers["ce-specversion"] = "0.3"

    assert errors_of(data, headers) == [
        "ce-specversion: must be \"1.0\", not '0.3'",
        "ce-source: is required",
    ]


def test_the_service_falls_back_to_the_subject_then_an_extension() -> None:
    from_subject = deploy(data={"version": "v2"}, subject="service/cart/canary")
    from_extension = deploy(data=None, subject="deployments/42", service="search")

    assert only(parse_change_event(from_subject)).service == "cart"
    assert only(parse_change_event(from_extension)).service == "search"


def test_an_event_naming_no_service_is_refused_naming_data_service() -> None:
    event = deploy(data={"version": "v2"}, subject="deployments/42")

    [error] = errors_of(event)

    assert error.startswith("data.service: is required")


def test_a_data_service_that_is_not_a_name_is_refused() -> None:
    assert errors_of(deploy(data={"service": ["cart"]})) == [
        "data.service: must be a service name of at most 255 characters"
    ]


@pytest.mark.parametrize(
    ("event_type", "kind"),
    [
        ("com.example.deploy.finished.v1", "deploy"),
        ("dev.argo.Deployment.Succeeded", "deploy"),
        ("com.example.config.changed.v1", "config"),
        ("io.launchdarkly.flag.updated", "flag"),
        ("com.example.feature.toggled", "flag"),
        ("com.example.infra.terraform.applied", "infra"),
        ("com.example.dependency.degraded", "dependency"),
        ("com.statuspage.incident.created", "dependency"),
    ],
)
def test_the_kind_comes_from_words_in_the_type(event_type: str, kind: str) -> None:
    assert only(parse_change_event(deploy(type=event_type))).kind == kind


def test_a_type_naming_no_known_kind_is_refused_naming_type() -> None:
    [error] = errors_of(deploy(type="com.example.build.finished"))

    assert error.startswith("type: 'com.example.build.finished' names no known change kind")


@pytest.mark.parametrize(
    ("data", "summary"),
    [
        ({"service": "cart", "version": "v3", "previous_version": "v2"}, "cart v2 → v3"),
        ({"service": "cart", "flag": "new_cart", "old": False, "new": True}, "new_cart: false → true"),
        ({"service": "cart", "key": "limits.rps", "new": 200}, "limits.rps: unset → 200"),
        ({"service": "cart", "summary": "Scaled to 12 pods\nby autoscaler"}, "Scaled to 12 pods"),
        ({"service": "cart"}, "deploy change on cart (com.example.deploy.finished.v1)"),
    ],
)
def test_the_summary_is_built_from_what_the_data_says(data: dict[str, Any], summary: str) -> None:
    assert only(parse_change_event(deploy(data=data))).summary == summary


def test_dedup_key_is_one_unambiguous_string() -> None:
    signal = only(parse_change_event(deploy(source="a,b", id="c")))
    other = only(parse_change_event(deploy(source="a", id="b,c")))

    assert signal.dedup_key != other.dedup_key
    assert json.loads(signal.dedup_key) == ["a,b", "c"]


def test_unknown_members_are_kept_as_extension_attributes() -> None:
    signal = only(parse_change_event(deploy(traceparent="00-abc-def-01")))

    assert signal.details["traceparent"] == "00-abc-def-01"


def test_a_batch_larger_than_the_limit_is_refused_before_reading_it() -> None:
    assert errors_of([{}] * 1001) == ["body: holds 1001 events, more than 1000"]
