"""The web declare form refuses a time outside the observed window, naming the field, and
declares nothing; an incident an older version stored at year 1 still shows."""

from __future__ import annotations

from datetime import UTC

import pytest
from fastapi.testclient import TestClient

from tests.web.test_room import DECLARE
from warroom.bootstrap import App
from warroom.domain.incidents import commands
from warroom.services import operations as ops


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("detected_at", "0001-01-01T00:00", "detected_at: 0001-01-01T00:00:00.000000Z is before 1970-01-01"),
        ("detected_at", "1969-12-31T23:59", "detected_at: 1969-12-31T23:59:00.000000Z is before 1970-01-01"),
        (
            "impact_started_at",
            "9999-12-31T23:59",
            "impact_started_at: 9999-12-31T23:59:00.000000Z is in the future",
        ),
    ],
)
def test_the_declare_form_refuses_a_time_outside_the_window(
    client: TestClient, warroom_app: App, responder: str, field: str, value: str, message: str
) -> None:
    answer = client.post("/incidents", data={"csrf_token": responder, **DECLARE, field: value})
    assert answer.status_code == 303  # post/redirect/get: back to the form, which says why
    shown = client.get(answer.headers["location"].split("#")[0]).text
    assert message.split(": ", 1)[1] in shown
    assert ops.list_incidents(warroom_app.context, {}) == []


def test_a_room_an_older_version_stored_at_year_1_still_shows(
    client: TestClient, warroom_app: App, responder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as old_version:  # what an older version let in
        old_version.setattr(commands, "_past", lambda value, name, now: value.astimezone(UTC))
        ref = ops.declare(
            warroom_app.context,
            "pager",
            {"title": "Old", "services": "checkout", "detected_at": "0001-01-01T00:00:01Z"},
        )["id"]
    assert ops.show(warroom_app.context, ref)["milestones"]["detected_at"]["at"].startswith("0001-01-01")
    for path in (f"/incidents/{ref}", f"/incidents/{ref}/fragment", "/"):
        assert client.get(path).status_code == 200, path
