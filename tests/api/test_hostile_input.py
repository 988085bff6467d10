"""Times outside their window and booleans where numbers go, on SQLite and PostgreSQL.

Every refusal is a 4xx ``application/problem+json`` naming the field, with nothing
stored; and an incident an older version stored with a time at the edge of the calendar
still reads everywhere (arithmetic on stored times saturates instead of raising).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from warroom.server import create_app

from .conftest import T0, Api, TestClient

OUT_OF_WINDOW = [
    "0001-01-01T00:00:01Z",
    "0001-01-01T00:00:00+01:00",
    "1969-12-31T23:59:59Z",
    "9999-12-31T23:59:59Z",
    "2026-11-28T10:00:00Z",  # two days after now
]


def refused(answer: Any, field: str, status: int = 422) -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["field"] == field, problem
    detail: str = problem["detail"]
    assert detail.startswith(f"{field}: "), detail
    return detail


def incident_count(api: Api) -> int:
    return len(api.get("/api/v1/incidents").json())


@pytest.mark.parametrize("field", ["detected_at", "impact_started_at"])
@pytest.mark.parametrize("value", OUT_OF_WINDOW)
def test_declaring_with_a_time_outside_the_observed_window_is_refused(
    api: Api, field: str, value: str
) -> None:
    body = {"title": "Checkout failing", "services": ["checkout"], field: value}
    refused(api.post("/api/v1/incidents", body), field)
    assert incident_count(api) == 0


def test_declaring_in_1970_and_within_the_clock_skew_is_accepted(api: Api) -> None:
    view = api.declare(detected_at="1970-01-01T00:00:00Z", impact_started_at="2026-11-26T10:00:30Z")
    assert view["milestones"]["detected_at"]["at"] == "1970-01-01T00:00:00.000000Z"
    for path in ("", "/changes", "/triage"):
        assert api.get(f"/api/v1/incidents/{view['id']}{path}").status_code == 200


@pytest.mark.parametrize("value", OUT_OF_WINDOW)
def test_recording_a_change_outside_the_window_is_refused(api: Api, value: str) -> None:
    body = {"service": "checkout", "kind": "deploy", "summary": "v2", "at": value}
    refused(api.post("/api/v1/changes", body), "at")


@pytest.mark.parametrize(
    ("due", "accepted"),
    [
        ("9999-12-31", False),
        ("2036-11-25", True),  # about ten years ahead
        ("2036-12-31", False),
        ("9999w", False),
        ("0001-01-01T00:00:00Z", False),
        ("2026-11-25", False),
        ("14d", True),
    ],
)
def test_a_follow_up_is_due_between_now_and_about_ten_years_ahead(api: Api, due: str, accepted: bool) -> None:
    ref = api.declare()["id"]
    body = {"title": "Canary deploys", "owner": "erin", "due": due, "kind": "prevent"}
    answer = api.post(f"/api/v1/incidents/{ref}/followups", body)
    if accepted:
        assert answer.status_code == 200, answer.text
    else:
        refused(answer, "due")


NUMBERS: list[tuple[str, str, dict[str, Any]]] = [
    ("/api/v1/incidents", "customer_impact", {"title": "t", "services": ["checkout"]}),
    ("/api/v1/incidents", "financial_per_hour", {"title": "t", "services": ["checkout"]}),
    ("/api/v1/incidents", "severity", {"title": "t", "services": ["checkout"], "why": "w"}),
    ("/api/v1/incidents/{ref}/assess", "customer_impact", {}),
    ("/api/v1/incidents/{ref}/assess", "financial_per_hour", {}),
    ("/api/v1/incidents/{ref}/severity", "severity", {"why": "w"}),
    ("/api/v1/incidents/{ref}/mitigations", "expected_minutes", {"title": "Roll back"}),
    ("/api/v1/incidents/{ref}/mitigations", "prepared", {}),
    ("/api/v1/incidents/{ref}/mitigations/outcome", "before", {"mitigation": "M1", "outcome": "effective"}),
    ("/api/v1/incidents/{ref}/mitigations/outcome", "after", {"mitigation": "M1", "outcome": "effective"}),
]


@pytest.mark.parametrize("flag", [True, False])
@pytest.mark.parametrize(("path", "field", "rest"), NUMBERS)
def test_a_boolean_is_not_a_number(api: Api, path: str, field: str, rest: dict[str, Any], flag: bool) -> None:
    """``"customer_impact": true`` used to read as 1: a 100% share and SEV1."""
    ref = api.declare()["id"]
    before = api.get(f"/api/v1/incidents/{ref}/timeline").json()["events"]
    refused(api.post(path.format(ref=ref), rest | {field: flag}), field)
    assert api.get(f"/api/v1/incidents/{ref}/timeline").json()["events"] == before
    assert incident_count(api) == 1


def test_a_boolean_severity_is_refused_when_declaring_from_signals(api: Api) -> None:
    answer = api.post("/api/v1/signals/checkout/declare", {"severity": True, "why": "w"})
    refused(answer, "severity")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after": 99999999999999999999}, "after"),
        ({"before": 99999999999999999999, "newest_first": True}, "before"),
        ({"limit": 99999999999999999999}, "limit"),
        ({"after": -1}, "after"),
    ],
)
def test_huge_cursors_and_limits_are_refused(api: Api, params: dict[str, Any], field: str) -> None:
    ref = api.declare()["id"]
    refused(api.get(f"/api/v1/incidents/{ref}/timeline", params=params), field)


def test_list_limit_overflow_is_refused(api: Api) -> None:
    refused(api.get("/api/v1/incidents", params={"limit": 99999999999999999999}), "limit")


@pytest.mark.parametrize("stored", [datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC)])
def test_an_incident_an_older_version_stored_at_year_1_reads_everywhere(api: Api, stored: datetime) -> None:
    """Before the windows, year 1 could be stored; every read must stay total for it."""
    api.clock.at = stored  # the clock stamps declared_at and detected_at: as an old version let in
    ref = api.declare(customer_impact=None)["id"]
    api.clock.at = T0
    for path in ("", "/changes", "/triage", "/timeline", "/updates/template", "/stakeholders"):
        answer = api.get(f"/api/v1/incidents/{ref}{path}")
        assert answer.status_code == 200, f"{path}: {answer.text}"
    window = api.get(f"/api/v1/incidents/{ref}/changes").json()["window"]
    assert window["start"] == "0001-01-01T00:00:00.000000Z"
    assert api.get("/api/v1/incidents").status_code == 200
    web = TestClient(create_app(api.app, with_web=True), follow_redirects=False)
    with web:
        page = web.get("/login")
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        login = web.post("/login", data={"token": api.tokens["vic"], "csrf_token": csrf, "next": "/"})
        assert login.status_code == 303, login.text
        for path in (f"/incidents/{ref}", f"/incidents/{ref}/fragment", "/", "/signals"):
            answer = web.get(path)
            assert answer.status_code == 200, f"{path}: {answer.status_code}"
