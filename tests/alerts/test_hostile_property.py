"""Property: whatever time or number arrives, warroom refuses it naming the field, or
stores something every read path can read back. On SQLite and PostgreSQL.

Generated times cover the whole range a datetime can represent (naive, UTC, odd offsets,
year 1, year 9999, just around now) plus texts beyond it; generated numbers are booleans,
huge integers, NaN and infinities, and texts. They go where times and numbers go: the five
webhooks (Alertmanager, Grafana, PagerDuty, generic, CloudEvents changes) and the API's
declare and assess bodies. After each, every read of what was touched must answer: the
incident over the API (room, changes, triage), the web room and its fragment, the signals
queue, and ``warroom show`` / ``warroom signals`` through the CLI.
"""

from __future__ import annotations

import copy
import itertools
import json
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from warroom.bootstrap import App
from warroom.cli.main import app as cli_app
from warroom.server import create_app

from .conftest import T0, Hooks, load, make_hooks

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"
OFFSETS = st.timedeltas(
    min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
)
ZONES = st.one_of(st.none(), st.just(UTC), st.builds(timezone, OFFSETS))
EDGE_TEXTS = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:01Z",
    "0001-01-01T00:00:00+01:00",
    "0000-01-01T00:00:00Z",
    "+10000-01-01T00:00:00Z",
    "1969-12-31T23:59:59.999999Z",
    "1970-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:59:59-01:00",
    "2026-11-27T22:29:59Z",
    "2026-11-27T22:30:01Z",
    "not a time",
]
TIMES = st.one_of(
    st.sampled_from(EDGE_TEXTS),
    st.datetimes(min_value=datetime.min, max_value=datetime.max, timezones=ZONES).map(datetime.isoformat),
    st.one_of(  # the far ends of the calendar, where the windows refuse or set aside
        st.datetimes(min_value=datetime.min, max_value=datetime(1969, 12, 31), timezones=st.just(UTC)),
        st.datetimes(min_value=datetime(2027, 1, 1), max_value=datetime.max, timezones=st.just(UTC)),
    ).map(lambda at: at.isoformat().replace("+00:00", "Z")),
    st.datetimes(min_value=datetime.min, max_value=datetime.max, timezones=st.just(UTC)).map(
        lambda at: at.isoformat().replace("+00:00", "Z")
    ),
    st.datetimes(  # around now, where the window's upper end lies
        min_value=datetime(2026, 11, 20), max_value=datetime(2026, 12, 3), timezones=st.just(UTC)
    ).map(datetime.isoformat),
)
NUMBERS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),  # NaN and the infinities too: Python's json writes and reads them
    st.sampled_from(["12%", "150%", "1e400", "-0", "1,000,000", "true", " ", "SEV1"]),
)
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Case:
    """One request: where it goes, the field under test (its JSON path) and the body."""

    target: str
    field: str
    value: Any
    critical: bool = True  # an alert that declares (else it waits in the queue)


TARGETS = {
    "alertmanager": ["startsAt", "endsAt"],
    "grafana": ["startsAt", "endsAt"],
    "generic": ["starts_at", "ends_at"],
    "pagerduty": ["payload.timestamp"],
    "changes": ["time", "data.finished_at"],
    "declare": ["detected_at", "impact_started_at"],
}
NUMBER_TARGETS = {
    "declare": ["customer_impact", "financial_per_hour", "severity"],
    "assess": ["customer_impact", "financial_per_hour"],
}
CASES = st.one_of(
    st.builds(
        lambda tf, value, critical: Case(tf[0], tf[1], value, critical),
        st.sampled_from([(t, f) for t, fields in TARGETS.items() for f in fields]),
        TIMES,
        st.booleans(),
    ),
    st.sampled_from([(t, f) for t, fields in NUMBER_TARGETS.items() for f in fields]).flatmap(
        lambda tf: NUMBERS.map(lambda v: Case(tf[0], tf[1], v))
    ),
)


class World:
    """One database behind the API, the hooks, the web room and the CLI."""

    def __init__(self, hooks: Hooks, web: TestClient, url: str) -> None:
        self.hooks = hooks
        self.web = web
        self.url = url
        self.serial = itertools.count(1)
        self.base = hooks.post(
            "/api/v1/incidents", {"title": "Base", "services": ["search"]}, as_="alice"
        ).json()["id"]

    def send(self, case: Case) -> tuple[Any, list[str]]:
        """Post the case; the answer and the incidents it touched."""
        n = next(self.serial)
        if case.target == "declare":
            body = {"title": f"Case {n}", "services": ["search"], case.field: case.value}
            if case.field == "severity":
                body["why"] = "a person decided"
            answer = self._post("/api/v1/incidents", body)
            return answer, [answer.json()["id"]] if answer.status_code == 201 else []
        if case.target == "assess":
            answer = self._post(f"/api/v1/incidents/{self.base}/assess", {case.field: case.value})
            return answer, [self.base]
        if case.target == "changes":
            event = copy.deepcopy(load("cloudevents_deploy_structured.json")) | {"id": f"case-{n}"}
            if case.field == "time":
                event["time"] = case.value
            else:
                event.pop("time")
                event["data"]["finished_at"] = case.value
            return self.hooks.post("/hooks/changes", event), []
        body = self._alert(case, n)
        answer = self.hooks.post(f"/hooks/{case.target}", body)
        touched = (
            answer.json().get("declared", []) + answer.json().get("updated", []) if answer.is_success else []
        )
        return answer, touched

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        """As alice; NaN and the infinities go as Python's json writes them (httpx refuses)."""
        headers = {"Content-Type": "application/json"}
        return self.hooks.post(path, None, as_="alice", content=json.dumps(body), headers=headers)

    @staticmethod
    def _alert(case: Case, n: int) -> dict[str, Any]:
        severity = "critical" if case.critical else "warning"
        if case.target == "pagerduty":
            body = copy.deepcopy(load("pagerduty_trigger.json")) | {"dedup_key": f"case-{n}"}
            body["payload"]["timestamp"] = case.value
            body["payload"]["severity"] = severity
            return body
        if case.target == "generic":
            labels = {"alertname": f"Case{n}", "service": "checkout", "severity": severity}
            status = "resolved" if case.field == "ends_at" else "firing"
            return {"labels": labels, "status": status, case.field: case.value}
        body = copy.deepcopy(load(f"{case.target}_firing.json"))
        alert = body["alerts"][0]
        alert["fingerprint"] = f"case-{n}"
        alert["labels"] = alert["labels"] | {"severity": severity, "case": str(n)}
        alert[case.field] = case.value
        if case.field == "endsAt":
            alert["status"] = "resolved"
        return body

    def read_everything(self, refs: list[str]) -> None:
        hooks = self.hooks
        for ref in {self.base, *refs}:
            for path in ("", "/changes", "/triage"):
                answer = hooks.get(f"/api/v1/incidents/{ref}{path}", as_="vic")
                assert answer.status_code == 200, f"{ref}{path}: {answer.text}"
            for path in (f"/incidents/{ref}", f"/incidents/{ref}/fragment"):
                page = self.web.get(path)
                assert page.status_code == 200, f"{path}: {page.status_code}"
            shown = CliRunner().invoke(
                cli_app, ["show", ref, "--json"], env={"WARROOM_DATABASE_URL": self.url}
            )
            assert shown.exit_code == 0, f"show {ref}: {shown.output} {shown.exception!r}"
        queue = hooks.get("/api/v1/signals", as_="vic")
        assert queue.status_code == 200, queue.text
        assert self.web.get("/signals").status_code == 200
        listed = CliRunner().invoke(cli_app, ["signals", "--json"], env={"WARROOM_DATABASE_URL": self.url})
        assert listed.exit_code == 0, f"signals: {listed.output} {listed.exception!r}"


def names(answer: Any, field: str) -> bool:
    """Whether a refusal names ``field``: problem+json with it as ``field`` or as the path
    an error message starts with (PagerDuty answers in PagerDuty's own shape)."""
    body = answer.json()
    if answer.headers["content-type"].startswith(PROBLEM) and body.get("field") == field:
        return True
    messages = body.get("errors") or [body.get("detail", "")]
    return any(field in str(message).split(":")[0] for message in messages)


@pytest.fixture
def world(database_url: str, build_app: Callable[..., App], clock: Any) -> Iterator[World]:
    made = make_hooks(build_app(database_url, clock=clock), clock)
    web = TestClient(create_app(made.app, with_web=True), follow_redirects=False)
    with made.client, web:
        page = web.get("/login")
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        assert web.post("/login", data={"token": made.tokens["vic"], "csrf_token": csrf}).status_code == 303
        yield World(made, web, database_url)


@given(case=CASES)
@SETTINGS
def test_a_time_or_number_is_refused_naming_its_field_or_reads_back_everywhere(
    world: World, case: Case
) -> None:
    world.hooks.clock.at = T0
    answer, touched = world.send(case)
    if answer.status_code >= 400:
        assert answer.status_code < 500, answer.text
        assert names(answer, case.field), f"{case}: {answer.text}"
        if case.target not in ("pagerduty",):
            assert answer.headers["content-type"].startswith(PROBLEM), answer.headers
    else:
        assert answer.status_code in (200, 201, 202), answer.text
    world.hooks.clock.advance(seconds=1)
    world.read_everything(touched)


def test_the_property_really_reaches_storage(world: World) -> None:
    """A guard on the generator's reach: a plausible case is stored, an implausible alert
    time is set aside and stored, a year-1 declaration is refused."""
    ok, refs = world.send(Case("alertmanager", "startsAt", "0001-01-01T00:00:01Z"))
    assert ok.status_code == 200 and refs, ok.text
    refused, _ = world.send(Case("declare", "detected_at", "0001-01-01T00:00:01Z"))
    assert refused.status_code == 422 and names(refused, "detected_at")
    world.read_everything(refs)
    nan, _ = world.send(Case("declare", "customer_impact", float("nan")))
    assert nan.status_code == 422 and names(nan, "customer_impact"), nan.text
