"""The whole path with a real Prometheus and Alertmanager posting to a real warroom server.

demo-shop is scraped by Prometheus, whose rule fires after 10 s of a 5xx ratio above 5%;
Alertmanager (the session's shared stack, pointed at it for the test) posts to a uvicorn
warroom on 127.0.0.1 (token in the URL, as a sender that cannot set headers would). The
fault declares an incident detected at the alert's startsAt; clearing it posts the
resolution, which lands on the timeline.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.promstack import SharedStack, binaries_available
from warroom.bootstrap import build
from warroom.services.identity import auth
from warroom.settings import load_settings

pytestmark = pytest.mark.prometheus

_available = binaries_available()
if not _available and os.environ.get("WARROOM_REQUIRE_ALL") != "1":
    pytest.skip(_available.reason, allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]
CATALOG = """
teams:
  - {name: storefront}
  - {name: sre, fallback: true}
services:
  - {name: demo-shop, team: storefront, tier: 1, matchers: ['service="demo-shop"']}
"""
SERVER = """
import sys, uvicorn
from warroom.bootstrap import build
from warroom.server import create_app
from warroom.settings import load_settings
uvicorn.run(create_app(build(load_settings()), with_web=False), host="127.0.0.1", port=int(sys.argv[1]),
            log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(what: str, check: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


@pytest.fixture
def warroom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, str]]:
    """A warroom server on 127.0.0.1: (base URL, ingest token, viewer token)."""
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    (tmp_path / "warroom.toml").write_text(
        'database_url = "sqlite:///warroom.db"\ncatalog = "catalog.yaml"\n'
    )
    monkeypatch.setenv("WARROOM_CONFIG", str(tmp_path / "warroom.toml"))
    app = build(load_settings())
    ingest, _ = auth.create_token(app.context, "alertmanager", "ingest")
    viewer, _ = auth.create_token(app.context, "viewer", "viewer")
    app.context.uow.args[0].dispose()  # type: ignore[attr-defined]
    port = free_port()
    env = os.environ | {"PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for("warroom to start", lambda: _answers(f"{url}/healthz"), 20)
        yield url, ingest, viewer
    finally:
        server.terminate()
        server.wait(10)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_fault_declares_an_incident_detected_at_starts_at_and_its_resolution_lands_on_the_timeline(
    warroom: tuple[str, str, str], promstack: SharedStack
) -> None:
    url, ingest, viewer = warroom
    api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {viewer}"}, timeout=5)
    stack = promstack.stack
    with api, promstack.alerts_to(f"{url}/hooks/alertmanager?token={ingest}"):
        stack.inject_fault(region="eu-west", route="/api/checkout", error_ratio=0.5)
        incidents = wait_for("an incident", lambda: api.get("/api/v1/incidents").json(), 60)
        assert len(incidents) == 1
        room = api.get(f"/api/v1/incidents/{incidents[0]['id']}").json()
        firing = httpx.get(f"{stack.alertmanager_url}/api/v2/alerts", timeout=5).json()
        assert [a["labels"]["route"] for a in firing] == ["/api/checkout"]
        starts_at = datetime.fromisoformat(firing[0]["startsAt"]).replace(microsecond=0)
        detected = datetime.fromisoformat(room["milestones"]["detected_at"]["at"])
        assert detected.replace(microsecond=0) == starts_at
        assert abs(detected - datetime.fromisoformat(firing[0]["startsAt"])).total_seconds() < 0.001
        assert room["milestones"]["detected_at"]["evidence"].startswith("alert DemoHighErrorRatio")
        assert room["title"] == "DemoHighErrorRatio on demo-shop"
        assert room["severity"] == "SEV2"
        assert room["scope"] == "region: eu-west; route: /api/checkout"
        assert room["symptom"].startswith("demo-shop /api/checkout in eu-west fails")

        stack.clear_fault()

        def resolved() -> list[dict[str, Any]]:
            events = api.get(f"/api/v1/incidents/{room['id']}/timeline").json()["events"]
            return [e for e in events if e["kind"] == "alert_resolved"]

        assert len(wait_for("the resolution on the timeline", resolved, 60)) == 1
        room = api.get(f"/api/v1/incidents/{room['id']}").json()
        assert "alerts_resolved" in [n["code"] for n in room["nudges"]]
        assert room["status"] == "triage"  # a person decides when it is resolved
