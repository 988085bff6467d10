"""The postmortem names people as the room does (``Dana Reyes (dana)``) and services
acting for a person as ``notes-bot (service, owner Lee Park)``, in its JSON, Markdown and HTML; the document keeps the
actors the timeline recorded."""

from __future__ import annotations

import warnings
from typing import Any

from tests.incidents.fakes import FakeClock
from tests.learning.conftest import at, scripted_incident
from tests.learning.test_web_editor import log_in
from warroom.server import create_app
from warroom.services import operations as ops
from warroom.services.identity import auth
from warroom.services.learning import operations as lops
from warroom.services.oncall import directory

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


def _named_incident(app: Any, clock: FakeClock) -> str:
    ctx = app.context
    directory.put_person(ctx, {"handle": "dana", "name": "Dana Reyes"})
    directory.put_person(ctx, {"handle": "lee", "name": "Lee Park"})
    directory.put_person(ctx, {"handle": "sam", "name": "Sam Ode"})
    auth.create_token(ctx, "pager", "responder")  # a service token nobody owns: as recorded
    ref = scripted_incident(ctx, clock)
    clock.current = at(11, 0)
    ops.fact(ctx, "lee via notes-bot", ref, {"text": "EU card errors at 0.1%", "source": "Grafana"})
    lops.followup_add(
        ctx, "dana", ref, {"title": "Canary payments", "owner": "lee", "due": "7d", "kind": "prevent"}
    )
    lops.postmortem_draft(ctx, "dana", ref, {})
    return ref


def test_the_postmortem_names_people_and_services_and_keeps_the_record(
    any_app: Any, clock: FakeClock
) -> None:
    ref = _named_incident(any_app, clock)
    view = lops.postmortem_show(any_app.context, ref, {"format": "md"})
    recorded = {entry["by"] for entry in view["document"]["timeline"]}
    assert {"pager", "dana", "lee via notes-bot"} <= recorded  # as the events recorded them
    assert view["actor_names"]["dana"] == "Dana Reyes (dana)"
    assert view["actor_names"]["pager"] == "pager"
    assert view["actor_names"]["lee via notes-bot"] == "notes-bot (service, owner Lee Park)"
    markdown = view["markdown"]
    assert "| Dana Reyes (dana) |" in markdown
    assert "| pager |" in markdown
    assert "| notes-bot (service, owner Lee Park) |" in markdown
    assert "| Lee Park (lee) |" in markdown  # the follow-up's owner
    assert "| dana |" not in markdown and "| lee via notes-bot |" not in markdown


def test_the_postmortem_page_names_people(app: Any, clock: FakeClock) -> None:
    ref = _named_incident(app, clock)
    with TestClient(create_app(app), follow_redirects=False) as client:
        log_in(client, app)
        page = client.get(f"/incidents/{ref}/postmortem").text
        markdown = client.get(f"/incidents/{ref}/postmortem.md").text
    timeline = page.split('class="pm-timeline"')[1].split("</table>")[0]
    assert "<td>Dana Reyes (dana)</td>" in timeline
    assert "<td>pager</td>" in timeline
    assert "by Dana Reyes (dana)" in page  # who drafted it
    assert 'data-label="Owner">Lee Park (lee)</td>' in page
    assert "| Dana Reyes (dana) |" in markdown
