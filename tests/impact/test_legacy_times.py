"""The impact probe on incidents an older version stored with a year-1 time.

Before the time windows, ``--detected-at 0001-01-01T00:00:01Z`` was stored; measuring such
an incident computed query ranges back from year 1 and failed with ``OverflowError``. A
milestone before 1970 is now passed over (the declaration, which warroom's clock stamped,
is measured from instead, or the detection when only the impact start is that old).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from tests.api.conftest import Api, Clock, make_api
from tests.impact.fakes import T0, FakeMetrics, shop_catalog
from tests.impact.test_triage_service import POLICY, eu_west_fault, serve
from warroom.bootstrap import App
from warroom.domain.incidents import commands

YEAR_1 = "0001-01-01T00:00:01Z"


@pytest.fixture
def metrics() -> FakeMetrics:
    return FakeMetrics()


@pytest.fixture
def api(database_url: str, build_app: Callable[..., App], metrics: FakeMetrics) -> Iterator[Api]:
    """The API with the probe on a fake Prometheus and the shop's catalog (as in
    ``test_api_triage``), on SQLite and PostgreSQL."""
    clock = Clock()
    clock.at = T0
    app = build_app(database_url, clock=clock)
    context = dataclasses.replace(app.context, metrics=metrics, probe=POLICY, load_catalog=shop_catalog)
    made = make_api(dataclasses.replace(app, context=context), clock)
    with made.client:
        yield made


@pytest.mark.parametrize("field", ["detected_at", "impact_started_at"])
def test_an_incident_stored_with_a_year_1_milestone_is_measured_from_the_next_one(
    api: Api, metrics: FakeMetrics, monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    serve(metrics, eu_west_fault())
    with monkeypatch.context() as old_version:  # what an older version let in
        old_version.setattr(commands, "_past", lambda value, name, now: value.astimezone(UTC))
        ref = api.declare(services=["shop"], customer_impact="", **{field: YEAR_1})["id"]
    assert api.get(f"/api/v1/incidents/{ref}").json()["milestones"][field]["at"].startswith("0001-01-01")

    measured = api.post(f"/api/v1/incidents/{ref}/triage")

    assert measured.status_code == 200, measured.text
    # passed over for the next milestone: detection when the impact start was year 1
    assert measured.json()["impact_start_from"] == (
        "declared_at" if field == "detected_at" else "detected_at"
    )
    assert (
        measured.json()["impact_start"]
        == api.get(f"/api/v1/incidents/{ref}").json()["milestones"]["declared_at"]["at"]
    )
    for path in ("/triage", "/changes", ""):
        assert api.get(f"/api/v1/incidents/{ref}{path}").status_code == 200


def test_a_declaration_stored_in_year_1_is_measured_from_1970(api: Api, metrics: FakeMetrics) -> None:
    serve(metrics, eu_west_fault())
    now = api.clock.at
    api.clock.at = datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC)  # the clock stamps the declaration
    ref = api.declare(services=["shop"], customer_impact="")["id"]
    api.clock.at = now

    measured = api.post(f"/api/v1/incidents/{ref}/triage")

    assert measured.status_code == 200, measured.text
    assert measured.json()["impact_start"] == "1970-01-01T00:00:00.000000Z"
