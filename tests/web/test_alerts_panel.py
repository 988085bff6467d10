"""The room's attached-alerts panel: state, labels, runbook and source links, safely."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.alerts.conftest import with_catalog
from warroom import bootstrap
from warroom.bootstrap import App
from warroom.server import create_app
from warroom.services import operations as ops
from warroom.services.identity import auth
from warroom.services.learning import operations as lops
from warroom.settings import Settings
from warroom.web.alerts_panel import safe_url

from .conftest import log_in

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


def _alert(name: str, status: str, runbook: str, fingerprint: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, "service": "checkout", "severity": "critical", "route": "/api/pay"},
        "annotations": {
            "summary": f"{name} on checkout",
            "runbook_url": runbook,
            "description": "5xx over 5%",
        },
        "startsAt": "2026-11-26T22:20:00Z",
        "endsAt": "2026-11-26T22:25:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        "fingerprint": fingerprint,
    }


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[TestClient, App]]:
    app = with_catalog(bootstrap.build(Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}")))
    with TestClient(create_app(app), follow_redirects=False) as client:
        yield client, app


def test_safe_url_lets_only_http_links_through() -> None:
    assert safe_url("https://runbooks.example.com/a?b=1") == "https://runbooks.example.com/a?b=1"
    for bad in (
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,x",
        "//evil",
        "/relative",
        "http://",
        5,
    ):
        assert safe_url(bad) is None


def test_the_room_lists_each_attached_alert_with_state_labels_and_links(site: tuple[TestClient, App]) -> None:
    client, app = site
    hook, _ = auth.create_token(app.context, "alertmanager:prod", "ingest")
    body = {
        "status": "firing",
        "alerts": [
            _alert("CheckoutErrors", "firing", "https://runbooks.example.com/checkout-errors", "aaa1"),
            _alert("CheckoutSlow", "firing", "javascript:alert(document.cookie)", "bbb2"),
        ],
    }
    headers = {"Authorization": f"Bearer {hook}"}
    answer = client.post("/hooks/alertmanager", json=body, headers=headers)
    assert answer.status_code == 200 and answer.json()["declared"] == ["INC-1"], answer.text
    resolved = {"status": "resolved", "alerts": [_alert("CheckoutSlow", "resolved", "", "bbb2")]}
    assert client.post("/hooks/alertmanager", json=resolved, headers=headers).status_code == 200
    log_in(client, app, "viewer", "vic")
    page = client.get("/incidents/INC-1").text
    panel = page[page.index('id="alerts"') : page.index('id="roles"')]
    assert "2 firing" not in panel and "1 firing, 1 resolved" in panel
    assert panel.index("CheckoutErrors") < panel.index("CheckoutSlow")  # firing first
    assert 'href="https://runbooks.example.com/checkout-errors"' in panel
    assert 'href="http://prometheus:9090/graph?g0.expr=up"' in panel
    assert "javascript:" not in panel
    assert "route=&#34;/api/pay&#34;" in panel or 'route="/api/pay"' in panel
    assert "startsAt of the first alert" in page  # impact start from the alert


def test_a_hand_declared_incident_takes_impact_start_from_its_earliest_attached_alert(
    site: tuple[TestClient, App],
) -> None:
    client, app = site
    ops.declare(
        app.context, "ann", {"title": "Checkout is slow", "services": "checkout", "customer_impact": "5%"}
    )
    log_in(client, app, "viewer", "vic")
    before = client.get("/incidents/INC-1").text
    assert 'impact-start">\n      <dt>Impact start</dt>\n      <dd class="muted">unknown' in before
    hook, _ = auth.create_token(app.context, "alertmanager:prod", "ingest")
    early = _alert("CheckoutSlow", "firing", "", "ccc3") | {"startsAt": "2026-11-26T22:05:00Z"}
    body = {"status": "firing", "alerts": [_alert("CheckoutErrors", "firing", "", "aaa1"), early]}
    answer = client.post("/hooks/alertmanager", json=body, headers={"Authorization": f"Bearer {hook}"})
    assert answer.status_code == 200 and answer.json()["updated"] == ["INC-1"], answer.text
    page = client.get("/incidents/INC-1").text
    tile = page[page.index('class="tile impact-start"') :][:400]
    assert "2026-11-26 22:05:00Z" in tile and "from alert CheckoutSlow" in tile
    assert "impact start" in page[page.index("<svg") :]  # the milestone strip marks it too
    durations = page[page.index('aria-label="Durations"') :][:600]
    assert re.search(r"time to detect</span> <strong>(?!—)", durations), durations
    lops.postmortem_draft(app.context, "ann", "INC-1", {})
    postmortem = client.get("/incidents/INC-1/postmortem").text
    row = postmortem[postmortem.index(">impact started</th>") :][:300]
    assert "2026-11-26 22:05:00Z" in row and "from alert CheckoutSlow" in row
