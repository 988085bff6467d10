"""`warroom demo --live` end to end with traces: demo-shop exports its checkout traces with
the OpenTelemetry SDK to the demo's own server, and the X-ray names the injected fault
(payments → adyen timing out, retried) and pins it as a fact, next to the metrics story
(alert, triage, the flag turned off, verified, resolved)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from warroom.cli.demo_live import play, tracing_available
from warroom.devstack import binaries_available
from warroom.settings import Settings

pytestmark = [pytest.mark.prometheus, pytest.mark.slow, pytest.mark.timeout(240)]

_available = binaries_available()
if not _available and os.environ.get("WARROOM_REQUIRE_ALL") != "1":
    pytest.skip(_available.reason, allow_module_level=True)


def test_the_live_demo_xrays_the_injected_timeout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tracing_available() == "", "the dev extra installs the OpenTelemetry SDK"
    final = play(Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}"), "cli", as_json=True)

    printed = json.loads(capsys.readouterr().out)
    xray = printed["xray"]
    assert xray["status"] == "ok", xray["verdict"]
    # The window starts where the probe saw the impact begin, not at detection.
    assert xray["window"]["start_from"] == "left_slo_at"
    verdict = xray["verdict"]
    assert "end in payments → adyen (timeout after 2 s)" in verdict, verdict
    assert "payments is owned by team payments" in verdict, verdict
    # Retry amplification: failed calls are retried four times, so calls per request
    # rise well over the threshold against the healthy baseline's 1.0x.
    assert "payments calls adyen" in verdict and "per request, baseline 1." in verdict, verdict
    [top, *_] = xray["origins"]
    assert top["path"] == ["demo-shop", "payments", "adyen"]
    assert top["kind"] == "timeout" and top["share"] >= 0.8
    adyen = next(e for e in xray["edges"] if e["callee"] == "adyen")
    assert adyen["now"]["retries"] > 0 and adyen["now"]["timeouts"] > 0
    # Pinned as a fact with its evidence link; the incident still resolves as before.
    [fact] = [f for f in final["facts"] if f["text"].startswith("X-ray: ")]
    assert fact["source"].startswith(f"xray /incidents/{final['id']}/xray?start="), fact
    assert "payments → adyen" in fact["text"]
    assert final["status"] == "resolved"
