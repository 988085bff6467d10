"""The REST resources (and the remote CLI backend through them) and the web pages: the
printable postmortem and the report with SVG charts."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.incidents.fakes import FakeClock
from tests.learning.conftest import GOOD_SECTIONS, at, scripted_incident
from warroom.cli.remote import RemoteBackend
from warroom.domain.shared.errors import InvalidTransition, ValidationError
from warroom.server import create_app
from warroom.services.identity import auth

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(create_app(app), follow_redirects=False) as test_client:
        yield test_client


def _token(app: Any, role: str, name: str) -> dict[str, str]:
    plain, _ = auth.create_token(app.context, name, role)
    return {"Authorization": f"Bearer {plain}"}


def test_postmortem_and_followup_resources(app: Any, clock: FakeClock, client: TestClient) -> None:
    ref = scripted_incident(app.context, clock)
    clock.current = at(11, 0)
    writer, reader = _token(app, "responder", "sam"), _token(app, "viewer", "vic")
    base = f"/api/v1/incidents/{ref}"
    assert client.get(f"{base}/postmortem", headers=reader).status_code == 404
    drafted = client.post(f"{base}/postmortem/draft", headers=writer, json={})
    assert drafted.status_code == 200 and drafted.json()["revision"] == 1
    bad = client.post(f"{base}/postmortem/edit", headers=writer, json={"root_cause": ["x"]})
    assert bad.status_code == 422 and bad.json()["field"] == "root_cause"
    bad_type = client.post(
        f"{base}/postmortem/edit",
        headers=writer,
        json={"contributing_factors": [{"type": "luck", "text": "x"}]},
    )
    assert bad_type.status_code == 422 and bad_type.json()["field"] == "contributing_factors[0].type"
    edited = client.post(
        f"{base}/postmortem/edit",
        headers=writer,
        json=GOOD_SECTIONS | {"went_well": ["Bob's mistake was caught"]},
    )
    assert [f["rule"] for f in edited.json()["findings"]] == ["blame"]
    assert client.get(f"{base}/postmortem/lint", headers=reader).json()["ok"] is False
    assert client.post(f"{base}/postmortem/publish", headers=reader, json={}).status_code == 403
    refused = client.post(f"{base}/postmortem/publish", headers=writer, json={})
    assert refused.status_code == 409 and "blameless-lint" in refused.json()["detail"]
    published = client.post(
        f"{base}/postmortem/publish", headers=writer, json={"override": True, "why": "quoted"}
    )
    assert published.status_code == 200 and published.json()["status"] == "published"
    md = client.get(f"{base}/postmortem", headers=reader, params={"format": "md"}).json()["markdown"]
    assert md.startswith(f"# Postmortem {ref}:")
    added = client.post(
        f"{base}/followups",
        headers=writer,
        json={"title": "Canary", "owner": "erin", "due": "7d", "kind": "prevent"},
    )
    assert added.status_code == 200 and added.json()["ref"] == "A1"
    no_owner = client.post(
        f"{base}/followups", headers=writer, json={"title": "x", "due": "7d", "kind": "detect"}
    )
    assert no_owner.status_code == 422 and no_owner.json()["field"] == "owner"
    listed = client.get("/api/v1/followups", headers=reader, params={"status": "all"}).json()
    assert [(row["incident"], row["ref"]) for row in listed] == [(ref, "A1")]
    done = client.post(f"{base}/followups/done", headers=writer, json={"followup": "A1"})
    assert done.json()["status"] == "done"


def test_report_readiness_and_import_resources(app: Any, client: TestClient) -> None:
    admin, reader = _token(app, "admin", "root"), _token(app, "viewer", "vic")
    content = (FIXTURES / "history.json").read_text()
    assert client.post("/api/v1/history/import", headers=reader, json={"content": content}).status_code == 403
    malformed = client.post(
        "/api/v1/history/import", headers=admin, json={"format": "csv", "content": "id\nx\n"}
    )
    assert malformed.status_code == 422 and malformed.json()["detail"].startswith("line 2: declared_at")
    imported = client.post(
        "/api/v1/history/import", headers=admin, json={"format": "json", "content": content}
    )
    assert imported.json() == {"format": "json", "read": 4, "imported": 4, "skipped": 0}
    report = client.get("/api/v1/report", headers=reader, params={"service": "checkout"}).json()
    assert report["incidents"] == 3
    assert client.get("/api/v1/report", headers=reader, params={"severity": "SEV9"}).status_code == 422
    readiness = client.get("/api/v1/readiness", headers=reader).json()
    assert readiness == {"threshold": 100, "ok": True, "below": [], "services": []}  # no catalog


def test_the_remote_cli_backend_speaks_the_same_operations(
    app: Any, clock: FakeClock, client: TestClient
) -> None:
    ref = scripted_incident(app.context, clock)
    plain, _ = auth.create_token(app.context, "sam", "responder")
    remote = RemoteBackend("http://testserver", plain, client=client)  # TestClient is an httpx.Client
    assert isinstance(client, httpx.Client)
    assert remote.call("postmortem_draft", ref, {})["revision"] == 1
    remote.call("postmortem_edit", ref, GOOD_SECTIONS)
    assert remote.call("postmortem_lint", ref)["ok"] is True
    assert remote.call("postmortem_show", ref, {"format": "md"})["markdown"].startswith("# Postmortem")
    assert remote.call("postmortem_publish", ref, {"override": False})["status"] == "published"
    with pytest.raises(InvalidTransition):
        remote.call("postmortem_publish", ref, {"override": False})
    remote.call("followup_add", ref, {"title": "Canary", "owner": "erin", "due": "7d", "kind": "prevent"})
    with pytest.raises(ValidationError) as refused:
        remote.call("followup_add", ref, {"title": "x", "owner": "erin", "due": "7d", "kind": "later"})
    assert refused.value.field == "kind"
    assert [row["ref"] for row in remote.call("followup_list", None, {"status": "open"})] == ["A1"]
    assert remote.call("report", None, {"severity": "SEV1"})["incidents"] == 1
    assert remote.call("readiness", None, {"threshold": 50})["ok"] is True


def _log_in(client: TestClient, app: Any) -> None:
    import re

    plain, _ = auth.create_token(app.context, "vic", "viewer")
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    answer = client.post("/login", data={"token": plain, "csrf_token": csrf.group(1), "next": "/"})
    assert answer.status_code == 303


def test_the_postmortem_page_is_printable_html(app: Any, clock: FakeClock, client: TestClient) -> None:
    ref = scripted_incident(app.context, clock)
    assert client.get(f"/incidents/{ref}/postmortem").status_code == 303  # to the login
    _log_in(client, app)
    missing = client.get(f"/incidents/{ref}/postmortem")  # not drafted yet: the page offers to
    assert missing.status_code == 200 and "No postmortem yet" in missing.text
    assert client.get("/incidents/INC-99/postmortem").status_code == 404
    from warroom.services.learning import operations as lops

    lops.postmortem_edit(app.context, "sam", ref, GOOD_SECTIONS | {"trigger": "<script>alert(1)</script>"})
    page = client.get(f"/incidents/{ref}/postmortem")
    assert page.status_code == 200
    html = page.text
    assert "Content-Security-Policy" in page.headers
    assert '<link rel="stylesheet" href="/learning/learning.css">' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    for heading in (
        "Summary",
        "Impact",
        "Key times",
        "Timeline",
        "Trigger",
        "Contributing factors",
        "Root-cause chain",
    ):
        assert f">{heading}" in html
    assert "Support confirms checkout works again" in html and "coffee" not in html
    css = client.get("/learning/learning.css")
    assert css.status_code == 200 and "@media print" in css.text
    markdown = client.get(f"/incidents/{ref}/postmortem.md")
    assert markdown.headers["content-type"].startswith("text/markdown") and markdown.text.startswith(
        "# Postmortem"
    )


def test_the_report_page_draws_svg_charts(app: Any, client: TestClient) -> None:
    from warroom.services.learning import operations as lops

    lops.import_history(
        app.context, "ops", {"format": "json", "content": (FIXTURES / "history.json").read_text()}
    )
    _log_in(client, app)
    page = client.get("/report")
    assert page.status_code == 200
    html = page.text
    assert html.count("<svg") == 5
    assert "<title" in html and "Incidents per month" in html
    assert "2026-01: 2; 2026-02: 2" in html  # the chart's description names the figures
    assert "checkout" in html and "Did the fixes change reliability?" in html
    filtered = client.get("/report", params={"service": "search"})
    assert filtered.status_code == 200 and "1 incidents" in filtered.text
    bad = client.get("/report", params={"since": "last week"})
    assert bad.status_code == 422 and "since" in bad.text
