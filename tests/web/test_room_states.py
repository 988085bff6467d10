"""A closed room is read-only; a resolved one offers reopen; refusals use the web's words."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from warroom.bootstrap import App
from warroom.services import operations as ops
from warroom.web.wording import in_web_words

POSTS = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]+)"')


def _resolve(app: App, ref: str) -> None:
    ops.resolve(
        app.context, "pager", ref, {"summary": "rolled back", "impact_stopped": True, "risk_controlled": True}
    )


def test_a_closed_room_has_no_form_that_would_fail(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    ctx = warroom_app.context
    ops.set_severity(ctx, "pager", incident, {"severity": "SEV3", "why": "few customers"})
    ops.guess(ctx, "pager", incident, {"text": "deploy 42"})
    ops.propose(ctx, "pager", incident, {"title": "roll back"})
    _resolve(warroom_app, incident)
    ops.close(ctx, "pager", incident, {})
    page = client.get(f"/incidents/{incident}").text
    assert POSTS.findall(page) == ["/logout"]
    assert "is closed: its timeline is final" in page and 'class="actbar"' not in page
    fragment = client.get(f"/incidents/{incident}/fragment").text
    assert "<form" not in fragment


def test_a_resolved_room_offers_reopen_and_hides_open_only_forms(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    ops.propose(warroom_app.context, "pager", incident, {"title": "roll back"})
    _resolve(warroom_app, incident)
    actions = set(POSTS.findall(client.get(f"/incidents/{incident}").text))
    assert f"/incidents/{incident}/reopen" in actions
    for open_only in ("role-assign", "role-handoff", "propose", "apply", "resolve", "mitigated"):
        assert f"/incidents/{incident}/{open_only}" not in actions
    answer = client.post(f"/incidents/{incident}/reopen", data={"csrf_token": responder, "why": "back again"})
    assert answer.status_code == 303
    assert ops.show(warroom_app.context, incident)["status"] != "resolved"


def test_cli_flags_and_commands_become_the_forms_words() -> None:
    assert in_web_words("state that user impact has stopped (--impact-stopped)") == (
        "state that user impact has stopped"
    )
    assert (
        in_web_words("the policy says SEV2; SEV4 needs --why")
        == "the policy says SEV2; SEV4 needs a reason in Why"
    )
    held = "commander on INC-1 is held by bob; hand it off instead (warroom role handoff INC-1 commander carol --note ...)"
    assert (
        in_web_words(held)
        == "commander on INC-1 is held by bob; hand it off instead: use “Hand off (held role)”"
    )
    nudge = "measured impact suggests SEV1, declared SEV2: consider warroom severity INC-1 SEV1 --why ..."
    assert "warroom" not in in_web_words(nudge) and "“Change severity”" in in_web_words(nudge)


def test_a_refused_form_keeps_what_was_typed_and_a_reload_posts_nothing(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    path = f"/incidents/{incident}"
    answer = client.post(
        f"{path}/resolve", data={"csrf_token": responder, "summary": "it was DNS", "impact_stopped": "on"}
    )
    assert answer.status_code == 303 and answer.headers["location"] == f"{path}#act-resolve"
    page = client.get(path).text
    assert "it was DNS</textarea>" in page
    assert re.search(r'<details id="act-resolve" open', page)
    version = ops.show(warroom_app.context, incident)["version"]
    assert "it was DNS" not in client.get(path).text  # a reload is a GET: nothing posted again
    assert ops.show(warroom_app.context, incident)["version"] == version


def test_the_empty_list_says_how_to_declare_and_where_the_demo_is(client: TestClient, responder: str) -> None:
    page = client.get("/").text
    assert "No incidents yet." in page and "/hooks/&lt;source&gt;" in page
    assert "make demo" in page and "var/demo.db" in page
    assert "No incidents yet." not in client.get("/?status=closed").text
