"""Heartbeats: Alertmanager's Watchdog arrives through the real webhook; when it stops for
longer than the interval, warroom pages (once), and resolves the page when it is back."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from tests.api.conftest import Api, Clock, make_api
from tests.oncall.world import oncall_document, settings_for
from warroom.bootstrap import build_oncall
from warroom.services.oncall import escalation

WATCHDOG = {
    "version": "4",
    "groupKey": '{}:{alertname="Watchdog"}',
    "status": "firing",
    "receiver": "warroom",
    "groupLabels": {"alertname": "Watchdog"},
    "commonLabels": {"alertname": "Watchdog", "severity": "none"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "Watchdog", "severity": "none"},
            "annotations": {"summary": "the pipeline is alive"},
            "startsAt": "2026-11-26T09:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": "watchdog",
        }
    ],
}


@pytest.fixture
def api(database_url: str, build_app: Callable[..., Any], clock: Clock) -> Api:
    app = build_app(database_url, clock=clock)
    app = dataclasses.replace(app, settings=settings_for(database_url, None))
    made = make_api(app, clock)
    assert (
        made.post("/api/v1/oncall/apply", oncall_document("http://127.0.0.1:9/x"), as_="root").status_code
        == 200
    )
    beat = {
        "name": "prometheus-eu",
        "interval_minutes": 5,
        "labels": {"alertname": "Watchdog"},
        "source": "alertmanager",
    }
    assert made.post("/api/v1/oncall/heartbeats", beat, as_="root").status_code == 200
    return made


def _watchdog(api: Api) -> None:
    answer = api.client.post("/hooks/alertmanager", json=WATCHDOG, headers=api.auth("hook"))
    assert answer.status_code == 200, answer.text


def test_a_silent_pipeline_pages_once_and_the_page_resolves_when_it_beats_again(api: Api) -> None:
    config = build_oncall(api.app)
    ctx = api.app.context
    _watchdog(api)
    assert api.get("/api/v1/oncall/heartbeats").json()[0]["status"] == "ok"
    api.clock.advance(minutes=4)
    escalation.escalate(ctx, config)
    assert api.get("/api/v1/pages").json() == []
    api.clock.advance(minutes=2)  # six minutes without a beat
    escalation.escalate(ctx, config)
    escalation.escalate(ctx, config)
    opened = api.get("/api/v1/pages").json()
    assert len(opened) == 1 and "Heartbeat prometheus-eu is silent" in opened[0]["title"]
    assert opened[0]["policy"] == "fallback" and opened[0]["step"] == 1
    api.clock.advance(seconds=30)
    _watchdog(api)
    escalation.escalate(ctx, config)
    assert api.get("/api/v1/pages").json() == []
    assert api.get("/api/v1/pages?all=true").json()[0]["resolved_by"] == "oncall"
