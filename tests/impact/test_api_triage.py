"""The impact probe over REST: triage, the last measurement, mitigation checks, forced resolve."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.api.conftest import Api, Clock, make_api
from tests.impact.fakes import T0, FakeMetrics, shop_catalog
from tests.impact.test_triage_service import FLAG_OFF, POLICY, START, eu_west_fault, serve
from warroom.bootstrap import App
from warroom.cli.remote import RemoteBackend


@pytest.fixture
def metrics() -> FakeMetrics:
    return FakeMetrics()


@pytest.fixture
def api(sqlite_url: str, build_app: Callable[..., App], metrics: FakeMetrics) -> Iterator[Api]:
    clock = Clock()
    clock.at = T0
    app = build_app(sqlite_url, clock=clock)
    context = dataclasses.replace(app.context, metrics=metrics, probe=POLICY, load_catalog=shop_catalog)
    api = make_api(dataclasses.replace(app, context=context), clock)
    with api.client:
        yield api


def declare(api: Api) -> str:
    return str(api.declare(services=["shop"], impact_started_at=START.isoformat(), customer_impact="")["id"])


def test_a_responder_measures_and_a_viewer_reads_the_last_measurement(api: Api, metrics: FakeMetrics) -> None:
    serve(metrics, eu_west_fault())
    ref = declare(api)

    measured = api.post(f"/api/v1/incidents/{ref}/triage")
    shown = api.get(f"/api/v1/incidents/{ref}/triage", as_="vic")
    refused = api.post(f"/api/v1/incidents/{ref}/triage", as_="vic")

    assert measured.status_code == 200, measured.text
    assert measured.json()["status"] == "measured"
    assert measured.json()["services"][0]["indicators"][0]["blast_radius"][0]["sentence"].startswith(
        "region=eu-west 40% errors"
    )
    assert shown.status_code == 200 and shown.json()["measured_at"] == measured.json()["measured_at"]
    assert refused.status_code == 403


def test_a_blind_probe_answers_200_with_the_one_line_reason(api: Api, metrics: FakeMetrics) -> None:
    metrics.down = "refused the connection (refused)"
    ref = declare(api)

    answer = api.post(f"/api/v1/incidents/{ref}/triage")

    assert answer.status_code == 200
    assert answer.json()["summary"] == (
        "impact probe blind: Prometheus at http://prometheus.test:9090 refused the connection (refused)"
    )


def test_a_mitigation_check_over_rest_records_the_verdict(api: Api, metrics: FakeMetrics) -> None:
    serve(metrics, eu_west_fault(until=FLAG_OFF))
    ref = declare(api)
    api.post(
        f"/api/v1/incidents/{ref}/mitigations", {"title": "flag off", "kind": "feature_flag", "risk": "low"}
    )
    api.clock.at = FLAG_OFF
    api.post(f"/api/v1/incidents/{ref}/mitigations/apply", {"mitigation": "M1"})
    api.clock.at = FLAG_OFF + timedelta(minutes=2)

    answer = api.post(f"/api/v1/incidents/{ref}/mitigations/check", {"mitigation": "M1"})

    assert answer.status_code == 200, answer.text
    assert [c["verdict"] for c in answer.json()["checks"]] == ["effective"]


def test_resolve_over_rest_is_refused_off_baseline_and_forcing_records_why(
    api: Api, metrics: FakeMetrics
) -> None:
    serve(metrics, eu_west_fault())
    ref = declare(api)
    body = {"summary": "flag off", "impact_stopped": True, "risk_controlled": True}

    refused = api.post(f"/api/v1/incidents/{ref}/resolve", body)
    forced = api.post(f"/api/v1/incidents/{ref}/resolve", body | {"force": True, "why": "region drained"})

    assert refused.status_code == 409
    assert "not been back at baseline" in refused.json()["detail"]
    assert forced.status_code == 200, forced.text
    assert forced.json()["resolution"]["forced_why"] == "region drained"


def test_the_remote_cli_backend_reaches_the_probe(api: Api, metrics: FakeMetrics) -> None:
    serve(metrics, eu_west_fault())
    ref = declare(api)
    remote = RemoteBackend("http://testserver", api.tokens["alice"], client=api.client)

    measured: dict[str, Any] = remote.call("triage", ref)
    shown: dict[str, Any] = remote.call("triage_show", ref)
    checked: dict[str, Any] = remote.call("mitigation_check", ref, {"mitigation": None})

    assert measured["status"] == "measured" and shown["measured_at"] == measured["measured_at"]
    assert checked["summary"] == "no applied mitigation awaits a check"
