"""The postmortem written in the browser: draft, a form per section with the blameless lint
beside it (after saving, and as you type through ``/postmortem/lint``), publish, amend; and
the follow-ups of every incident on ``/follow-ups``. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import re
import secrets
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from tests.incidents.fakes import FakeClock
from tests.learning.conftest import at, scripted_incident
from warroom.domain.incidents.catalog import Catalog, Team
from warroom.server import create_app
from warroom.services.identity import auth
from warroom.services.learning import operations as lops

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TEAMS = Catalog(teams=(Team("payments-team", members=("erin",)),))


@pytest.fixture
def web(any_app: Any) -> Iterator[tuple[Any, TestClient]]:
    app = dataclasses.replace(
        any_app, context=dataclasses.replace(any_app.context, load_catalog=lambda: TEAMS)
    )
    with TestClient(create_app(app), follow_redirects=False) as client:
        yield app, client


def log_in(client: TestClient, app: Any, role: str = "responder", name: str = "sam") -> str:
    plain, _ = auth.create_token(app.context, name, role)
    found = CSRF.search(client.get("/login").text)
    assert found is not None
    answer = client.post("/login", data={"token": plain, "csrf_token": found.group(1), "next": "/"})
    assert answer.status_code == 303
    again = CSRF.search(client.get("/").text)
    assert again is not None
    return again.group(1)


def textarea(html: str, name: str) -> str | None:
    found = re.search(rf'<textarea id="pm-in-{name}" name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    return found.group(1) if found else None


def test_a_postmortem_is_drafted_edited_by_section_published_and_amended(
    web: tuple[Any, TestClient], clock: FakeClock
) -> None:
    app, client = web
    ref = scripted_incident(app.context, clock)
    clock.current = at(11, 0)
    csrf = log_in(client, app)
    drafted = client.post(f"/incidents/{ref}/postmortem-draft", data={"csrf_token": csrf})
    assert drafted.status_code == 303
    page = client.get(f"/incidents/{ref}/postmortem").text
    assert str(textarea(page, "summary")).startswith("SEV1 availability incident")  # the suggestion
    assert textarea(page, "went_well") == ""
    assert '<script src="/static/postmortem.js" defer></script>' in page

    def save(**sections: str) -> Any:
        return client.post(f"/incidents/{ref}/postmortem-edit", data={"csrf_token": csrf, **sections})

    saved = save(summary="Checkout failed for 12% of EU customers for 40 minutes.")
    assert saved.status_code == 303 and saved.headers["location"].endswith("/postmortem#pm-edit-summary")
    assert save(trigger="Deploy v2.41 changed the token format.").status_code == 303
    factors = save(
        contributing_factors="change: No canary stage for payments\n\ndetection: The alert waits 10 min"
    )
    assert factors.headers["location"].endswith("#pm-edit-contributing_factors")
    assert save(root_cause_chain="v2.41 expected new tokens\ncheckout sent old ones").status_code == 303
    assert save(went_well="Rollback took five minutes\nBob forgot to check the dashboard").status_code == 303
    page = client.get(f"/incidents/{ref}/postmortem").text
    assert textarea(page, "contributing_factors") == (
        "change: No canary stage for payments\ndetection: The alert waits 10 min"
    )
    assert textarea(page, "root_cause_chain") == "v2.41 expected new tokens\ncheckout sent old ones"
    went_well = page.split('id="pm-edit-went_well"')[1].split("</section>")[0]
    assert '“Bob forgot” <span class="meta">(line 2)</span>' in went_well  # beside its section
    assert "No blame, counterfactual or hindsight wording found." in page.split('id="pm-edit-trigger"')[1]

    refused = client.post(f"/incidents/{ref}/postmortem-publish", data={"csrf_token": csrf})
    assert refused.status_code == 303 and refused.headers["location"].endswith("/postmortem#pm-publish")
    shown = client.get(refused.headers["location"]).text
    assert "blameless-lint" in shown and "--override" not in shown
    assert lops.postmortem_show(app.context, ref)["status"] == "draft"
    assert save(went_well="Rollback took five minutes").status_code == 303
    published = client.post(f"/incidents/{ref}/postmortem-publish", data={"csrf_token": csrf})
    assert published.status_code == 303
    page = client.get(f"/incidents/{ref}/postmortem").text
    assert "<textarea" not in page and "postmortem.js" not in page  # read-only once published
    assert "Reopen for amendment" in page and "Checkout failed for 12% of EU customers" in page
    late = save(summary="changed after publishing")
    assert late.status_code == 303
    assert "published" in client.get(late.headers["location"]).text
    assert lops.postmortem_show(app.context, ref)["document"]["summary"].startswith("Checkout failed")
    amended = client.post(f"/incidents/{ref}/postmortem-amend", data={"csrf_token": csrf, "why": "new data"})
    assert amended.status_code == 303
    assert textarea(client.get(f"/incidents/{ref}/postmortem").text, "summary") is not None


def test_a_refused_section_keeps_what_was_typed_and_stores_nothing(
    web: tuple[Any, TestClient], clock: FakeClock
) -> None:
    app, client = web
    ref = scripted_incident(app.context, clock)
    csrf = log_in(client, app)
    client.post(f"/incidents/{ref}/postmortem-draft", data={"csrf_token": csrf})
    bad = client.post(
        f"/incidents/{ref}/postmortem-edit",
        data={"csrf_token": csrf, "contributing_factors": "luck: <b>the moon</b>"},
    )
    assert bad.status_code == 303 and bad.headers["location"].endswith("#pm-edit-contributing_factors")
    page = client.get(bad.headers["location"].split("#")[0]).text
    assert "&#39;luck&#39; is not one of" in page or "'luck' is not one of" in page
    assert textarea(page, "contributing_factors") == "luck: &lt;b&gt;the moon&lt;/b&gt;"
    too_long = secrets.token_urlsafe(4500)  # over the section limit and the flash cookie: answered in place
    answer = client.post(f"/incidents/{ref}/postmortem-edit", data={"csrf_token": csrf, "trigger": too_long})
    assert answer.status_code == 422 and textarea(answer.text, "trigger") == too_long
    unknown = client.post(f"/incidents/{ref}/postmortem-edit", data={"csrf_token": csrf, "root_cause": "x"})
    assert "is not a postmortem section" in client.get(unknown.headers["location"].split("#")[0]).text
    forged = client.post(f"/incidents/{ref}/postmortem-edit", data={"csrf_token": "forged", "trigger": "x"})
    assert forged.status_code == 303
    stored = lops.postmortem_show(app.context, ref)["document"]
    assert stored["trigger"] == "" and stored["contributing_factors"] == []


def test_the_lint_endpoint_checks_typed_text_for_writers_only(web: tuple[Any, TestClient]) -> None:
    app, client = web

    def lint(section: str, text: str, token: str) -> Any:
        return client.post("/postmortem/lint", data={"csrf_token": token, "section": section, "text": text})

    assert lint("summary", "Bob forgot", "none").status_code == 401
    csrf = log_in(client, app)
    found = lint("summary", "Obviously <script>alert(1)</script> the operator failed to roll back.", csrf)
    assert found.status_code == 200 and found.headers["content-security-policy"]
    assert "hindsight" in found.text and "blame" in found.text and "(line 1, column 1)" in found.text
    assert "<script>" not in found.text and "&lt;script&gt;" not in found.text  # only the matched words
    factor = lint("contributing_factors", "process: Alice forgot the flag\nchange: a deploy", csrf)
    assert "(line 1)" in factor.text and "Alice forgot" in factor.text
    clean = lint("went_well", "The rollback took five minutes.", csrf)
    assert "No blame, counterfactual or hindsight wording found." in clean.text
    assert lint("summary", "x", "forged").status_code == 403
    unknown = lint("title", "x", csrf)
    assert unknown.status_code == 422 and "is not a section people write" in unknown.text
    long = lint("summary", "word " * 5000, csrf)
    assert long.status_code == 422 and "at most 20,000" in long.text
    huge = client.post(
        "/postmortem/lint",
        content=b"csrf_token=" + csrf.encode() + b"&section=summary&text=" + b"a" * 70_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413
    many = client.post("/postmortem/lint", data={f"f{i}": "x" for i in range(10)} | {"csrf_token": csrf})
    assert many.status_code == 400
    viewer = TestClient(client.app, follow_redirects=False)
    viewer_csrf = log_in(viewer, app, "viewer", "vic")
    assert (
        viewer.post(
            "/postmortem/lint", data={"csrf_token": viewer_csrf, "section": "summary", "text": "x"}
        ).status_code
        == 403
    )


def test_follow_ups_across_incidents_overdue_first_filtered_and_closed_from_the_list(
    web: tuple[Any, TestClient], clock: FakeClock
) -> None:
    app, client = web
    first = scripted_incident(app.context, clock)
    second = scripted_incident(app.context, clock)
    ctx = app.context
    lops.followup_add(
        ctx, "sam", first, {"title": "Canary stage", "owner": "erin", "due": "7d", "kind": "prevent"}
    )
    lops.followup_add(
        ctx, "sam", second, {"title": "Alert sooner", "owner": "erin", "due": "1d", "kind": "detect"}
    )
    lops.followup_add(
        ctx, "sam", second, {"title": "Runbook", "owner": "dana", "due": "3d", "kind": "process"}
    )
    clock.current = at(10, 0).replace(day=28)  # "Alert sooner" is now overdue
    assert client.get("/follow-ups").status_code == 303  # to the login
    csrf = log_in(client, app)
    page = client.get("/follow-ups").text
    assert page.index("Alert sooner") < page.index("Runbook") < page.index("Canary stage")
    assert 'class="overdue"' in page and "erin 2 (1 overdue)" in page
    assert '<a href="/follow-ups">Follow-ups</a>' in page  # in the navigation
    team = client.get("/follow-ups", params={"team": "payments-team"}).text
    assert "Canary stage" in team and "Runbook" not in team
    reader, _ = auth.create_token(app.context, "vic", "viewer")
    api = client.get(
        "/api/v1/followups", params={"team": "payments-team"}, headers={"Authorization": f"Bearer {reader}"}
    )
    assert [f["title"] for f in api.json()] == ["Alert sooner", "Canary stage"]
    unknown = client.get(
        "/api/v1/followups", params={"team": "nope"}, headers={"Authorization": f"Bearer {reader}"}
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "team"
    by_owner = client.get("/follow-ups", params={"owner": "dana"}).text
    assert "Runbook" in by_owner and "Canary stage" not in by_owner
    overdue = client.get("/follow-ups", params={"overdue": "on"}).text
    assert "Alert sooner" in overdue and "Runbook" not in overdue
    done = client.post(
        f"/incidents/{second}/followup-done",
        data={"csrf_token": csrf, "followup": "A1", "return_to": "/follow-ups?owner=erin"},
    )
    assert done.status_code == 303 and done.headers["location"] == "/follow-ups?owner=erin"
    assert "Alert sooner" not in client.get("/follow-ups").text
    assert "Alert sooner" in client.get("/follow-ups", params={"status": "done"}).text
    refused = client.post(
        f"/incidents/{second}/followup-wontdo",
        data={"csrf_token": csrf, "followup": "A9", "why": "x", "return_to": "/follow-ups"},
    )
    assert refused.headers["location"] == "/follow-ups"
    assert "A9" in client.get("/follow-ups").text  # the refusal, shown on the list
    elsewhere = client.post(
        f"/incidents/{second}/followup-wontdo",
        data={"csrf_token": csrf, "followup": "A2", "why": "moved", "return_to": "https://evil.example/"},
    )
    assert elsewhere.headers["location"] == f"/incidents/{second}/postmortem#pm-followups"


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"status": "lost"}, "is not one of open, done, wontdo, all"),
        ({"team": "<script>x</script>"}, "is not a team of the service catalog"),
        ({"owner": "o" * 5000}, "No follow-ups match these filters"),
    ],
)
def test_bad_follow_up_filters_say_so_in_plain_words(
    web: tuple[Any, TestClient], query: dict[str, str], says: str
) -> None:
    app, client = web
    log_in(client, app)
    page = client.get("/follow-ups", params=query)
    assert page.status_code in (200, 422) and says in page.text.replace("&#39;", "'")
    assert "<script>x" not in page.text
