"""From an Alertmanager webhook to a page: an alert that declares an incident opens its
page in the declaring transaction, and ownership unclear pages the fallback rota.
Alert ingest calls ``services.oncall.pages.page_incident`` in ``_declare``
(``services/alerts/incident_work.py``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from tests.api.conftest import Api, Clock, make_api
from tests.oncall.world import oncall_document, settings_for
from warroom.bootstrap import build_oncall
from warroom.services.oncall import escalation


def _alert(name: str, service: str) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "status": "firing",
        "receiver": "warroom",
        "groupLabels": {"alertname": name},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": name, "service": service, "severity": "critical"},
                "annotations": {"summary": f"{name} on {service}"},
                "startsAt": "2026-11-26T09:58:00Z",
                "fingerprint": f"fp-{name}",
            }
        ],
    }


@pytest.fixture
def api(database_url: str, build_app: Callable[..., Any], clock: Clock) -> Api:
    app = build_app(database_url, clock=clock)
    settings = settings_for(database_url, None)
    raw = settings.raw | {
        "alerts": {"declare": [{"name": "critical", "alert_severity": "critical", "severity": "SEV2"}]}
    }
    app = dataclasses.replace(app, settings=dataclasses.replace(settings, raw=raw))
    made = make_api(app, clock)
    assert (
        made.post("/api/v1/oncall/apply", oncall_document("http://127.0.0.1:9/x"), as_="root").status_code
        == 200
    )
    return made


def test_an_alert_that_declares_pages_and_unclear_ownership_goes_to_the_fallback(api: Api) -> None:
    answer = api.client.post(
        "/hooks/alertmanager", json=_alert("MysteryErrors", "mystery"), headers=api.auth("hook")
    )
    assert answer.status_code == 200, answer.text
    declared = answer.json()["declared"]
    opened = api.get(f"/api/v1/pages?incident={declared[0]}").json()
    assert len(opened) == 1 and opened[0]["policy"] == "fallback"
    escalation.escalate(api.app.context, build_oncall(api.app))
    shown = api.get(f"/api/v1/pages/{opened[0]['id']}").json()
    assert [n["person"] for n in shown["notifications"]] == ["ivan"]
