"""Bad input gets a 4xx problem+json naming the field; never a 500 or a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.api.conftest import Api, Clock, make_api
from warroom.api.problems import domain_problem
from warroom.bootstrap import App
from warroom.domain.shared.errors import ConcurrencyConflict

INC = "/api/v1/incidents/INC-1"
JSON = {"Content-Type": "application/json"}


def problem(answer: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status and body["type"].startswith("https://")
    if field is not None:
        assert body.get("field") == field, body
    assert "Traceback" not in answer.text and "sqlalchemy" not in answer.text.lower()
    return body


def test_malformed_json_is_400_naming_the_body(sqlite_api: Api) -> None:
    sqlite_api.declare()
    answer = sqlite_api.post(f"{INC}/notes", content=b'{"text": "unterminated', headers=JSON)
    assert problem(answer, 400, "body")["detail"] == "the request body is not valid JSON"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ("a note", "body"),
        ({"text": 42}, "text"),
        ({"text": "x", "pinned": "perhaps"}, "pinned"),
        ({"text": "x", "colour": "red"}, "colour"),
        ({}, "text"),
    ],
)
def test_wrong_shapes_are_422_naming_the_field(sqlite_api: Api, body: Any, field: str) -> None:
    sqlite_api.declare()
    problem(sqlite_api.post(f"{INC}/notes", body), 422, field)


def test_a_list_item_of_the_wrong_type_names_its_position(sqlite_api: Api) -> None:
    answer = sqlite_api.post("/api/v1/incidents", {"title": "x", "services": ["a", 7]})
    assert problem(answer, 422)["field"].startswith("services")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x", "customer_impact": "lots"}, "customer_impact"),
        ({"title": "x", "kind": "meteor"}, "kind"),
        ({"title": "x", "detected_at": "the day before"}, "detected_at"),
        ({"title": "x", "detected_at": "2026-11-26T10:00:00"}, "detected_at"),
        ({"title": "x", "severity": "SEV0"}, "severity"),
        ({"title": "x" * 5000}, "title"),
    ],
)
def test_domain_validation_is_422_naming_the_field(sqlite_api: Api, body: dict[str, Any], field: str) -> None:
    detail = problem(sqlite_api.post("/api/v1/incidents", body), 422, field)["detail"]
    assert detail.startswith(f"{field}: ")


def test_query_parameters_of_the_wrong_type_name_the_parameter(sqlite_api: Api) -> None:
    sqlite_api.declare()
    problem(sqlite_api.get(f"{INC}/timeline?limit=many"), 422, "limit")
    problem(sqlite_api.get(f"{INC}/timeline?limit=0"), 422, "limit")
    problem(sqlite_api.get(f"{INC}/timeline?after=99999999999999999999"), 422, "after")
    problem(sqlite_api.get("/api/v1/incidents?status=sleeping"), 422, "status")


def test_an_unknown_incident_is_404_and_a_malformed_id_422(api: Api) -> None:
    assert problem(api.get("/api/v1/incidents/INC-404"), 404)["detail"] == "no incident INC-404"
    problem(api.post("/api/v1/incidents/INC-404/notes", {"text": "x"}), 404)
    problem(api.get("/api/v1/incidents/robert'); DROP TABLE incidents;--"), 422, "incident")
    problem(api.get("/api/v1/nothing-here"), 404)


def test_an_incident_number_beyond_the_database_range_is_404(api: Api) -> None:
    problem(api.get("/api/v1/incidents/INC-999999999999/timeline"), 404)


def test_refusals_of_the_domain_are_409(api: Api) -> None:
    api.declare()
    body = problem(api.post(f"{INC}/close"), 409)
    assert body["type"].endswith("/invalid-transition")
    api.post(f"{INC}/roles/assign", {"role": "commander", "person": "dana"})
    problem(api.post(f"{INC}/roles/assign", {"role": "commander", "person": "lee"}), 409)


def test_a_concurrency_conflict_is_a_409_problem() -> None:
    response = domain_problem(ConcurrencyConflict("INC-1 changed while you were working on it"))
    assert response.status_code == 409 and response.media_type == "application/problem+json"
    assert b"/concurrency-conflict" in response.body


def test_an_oversize_body_is_413(sqlite_api: Api) -> None:
    sqlite_api.declare()
    big = b'{"text": "' + b"x" * (1024 * 1024) + b'"}'
    problem(sqlite_api.post(f"{INC}/notes", content=big, headers=JSON), 413, "body")


def test_an_oversize_chunked_body_is_413(sqlite_api: Api) -> None:
    sqlite_api.declare()

    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    problem(sqlite_api.post(f"{INC}/notes", content=chunks(), headers=JSON), 413, "body")


HOSTILE = [
    "<script>alert(1)</script>",
    "'; DROP TABLE events; --",
    "\u202eevil\u202c",
    "emoji 🔥 and CJK 事故",
    "nul \x00 inside",
    "{{ 7*7 }} ${jndi:ldap://x}",
    "a" * 20000,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_are_stored_verbatim_or_refused_with_a_4xx(api: Api, text: str) -> None:
    api.declare()
    answer = api.post(f"{INC}/notes", {"text": text})
    if answer.status_code == 200:
        events = api.get(f"{INC}/timeline?newest_first=true&limit=1").json()["events"]
        assert events[0]["payload"]["text"] == text.strip()
    else:
        problem(answer, 422, "text")
    assert api.get("/api/v1/incidents/" + quote(text[:50], safe="")).status_code < 500
    assert api.get("/api/v1/incidents", params={"service": text[:200]}).status_code < 500


def test_an_unexpected_error_is_a_generic_500_that_is_logged(
    sqlite_url: str,
    build_app: Callable[..., App],
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    api = make_api(build_app(sqlite_url, clock=clock), clock)

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret internals at /srv/warroom/db.py line 7")

    monkeypatch.setattr("warroom.services.operations.list_incidents", broken)
    with caplog.at_level(logging.ERROR, logger="warroom.api"):
        answer = api.get("/api/v1/incidents")
    body = problem(answer, 500)
    assert "secret" not in answer.text and "/srv" not in answer.text
    assert body["detail"] == "the server failed to answer; the error is logged"
    assert "secret internals" in caplog.text


def test_an_incident_whose_timeline_was_edited_outside_warroom_is_a_clear_500(api: Api) -> None:
    from sqlalchemy import text

    api.declare()
    api.declare(title="Search slow", services=["search"])
    fact = api.post("/api/v1/incidents/INC-1/facts", {"text": "5xx at 12%", "source": "Grafana"})
    assert fact.status_code == 200, fact.text
    with api.app.context.uow() as uow:
        uow.connection.execute(text("UPDATE events SET payload = '{}' WHERE incident = 1 AND seq = 2"))  # type: ignore[attr-defined]
        uow.commit()
    for answer in (
        api.get("/api/v1/incidents/INC-1"),
        api.post("/api/v1/incidents/INC-1/notes", {"text": "still there?"}),
    ):
        body = problem(answer, 500)
        assert body["type"].endswith("corrupt-timeline")
        assert "INC-1 event #2 (fact_recorded)" in body["detail"] and "warroom verify" in body["detail"]
    assert api.get("/api/v1/incidents/INC-2").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/hooks/grafana", "POST, PUT"),
        ("GET", "/hooks/grafana", "POST, PUT"),
        ("GET", "/hooks/alertmanager", "POST"),
        ("DELETE", "/api/v1/incidents", "GET, POST"),
    ],
)
def test_a_wrong_method_is_405_naming_every_method_the_path_takes(
    sqlite_api: Api, method: str, path: str, allow: str
) -> None:
    answer = sqlite_api.client.request(method, path)
    assert answer.status_code == 405
    assert answer.headers["allow"] == allow
    assert answer.headers["content-type"] == "application/problem+json"
