"""The budget "alert webhook -> first delivery attempt to the on-call person <= 2 s" holds
with the default ``[jobs]`` settings, on the real clock with the real job runner and the
real Apprise library delivering to a local receiver: the runner inside the server wakes
when the alert opens a page, and a separate worker (its own context, so it hears no
doorbell) finds it on its next one-second round."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tests.api.conftest import Api, Clock, make_api
from tests.comms.support import Receiver
from tests.oncall.test_from_alerts import _alert
from tests.oncall.world import oncall_document, settings_for
from warroom.bootstrap import App, build_runner
from warroom.worker import interval_of, start_in_thread

BUDGET = 2.0


def _app(app: App) -> App:
    """``app`` with the on-call world's settings, a declaration rule, and no ``[jobs]``."""
    settings = settings_for(app.settings.database_url, None)
    raw = settings.raw | {
        "alerts": {"declare": [{"name": "critical", "alert_severity": "critical", "severity": "SEV2"}]}
    }
    assert "jobs" not in raw
    return dataclasses.replace(app, settings=dataclasses.replace(settings, raw=raw))


def _document(receiver: Receiver) -> dict[str, Any]:
    """The on-call world, with Ivan (the fallback rota, which an alert of a service outside
    the catalog pages) reachable by push through Apprise."""
    document = oncall_document(receiver.url)
    [ivan] = [p for p in document["people"] if p["handle"] == "ivan"]
    ivan["contacts"] = [{"name": "push", "kind": "apprise", "address": receiver.url.replace("http", "json")}]
    return document


def _paged_within(api: Api, receiver: Receiver, alerts: int) -> list[float]:
    """Post ``alerts`` webhooks one after the other; seconds from each to its first push."""
    waited: list[float] = []
    for i in range(alerts):
        seen = len(receiver.requests)
        began = time.monotonic()
        body = _alert(f"CheckoutErrors{i}", f"shop-{i}")
        answer = api.client.post("/hooks/alertmanager", json=body, headers=api.auth("hook"))
        assert answer.status_code == 200 and answer.json()["declared"], answer.text
        while len(receiver.requests) == seen and time.monotonic() - began < 10:
            time.sleep(0.01)
        waited.append(time.monotonic() - began)
        assert len(receiver.requests) > seen, f"alert {i}: nobody was paged within 10 s"
        time.sleep(0.3)  # the next alert lands at another point of the runner's sleep
    return waited


@contextmanager
def _running(runner: Any, interval: float) -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop, interval), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        runner.ctx.doorbell.ring()
        thread.join(10)
        runner.close()


def test_the_default_settings_page_within_two_seconds_with_jobs_in_the_server(
    database_url: str, build_app: Callable[..., Any], receiver: Receiver
) -> None:
    app = _app(build_app(database_url))
    api = make_api(app, Clock())
    assert api.post("/api/v1/oncall/apply", _document(receiver), as_="root").status_code == 200
    assert interval_of(app.settings) == 1.0
    jobs = start_in_thread(app)  # what `warroom serve` does
    assert jobs is not None
    try:
        waited = _paged_within(api, receiver, 3)
    finally:
        jobs.stop()
    assert max(waited) <= BUDGET, waited


def test_the_default_settings_page_within_two_seconds_from_a_separate_worker(
    database_url: str, build_app: Callable[..., Any], receiver: Receiver
) -> None:
    server = _app(build_app(database_url))
    api = make_api(server, Clock())
    assert api.post("/api/v1/oncall/apply", _document(receiver), as_="root").status_code == 200
    worker = _app(build_app(database_url))  # `warroom worker`: its own context
    assert worker.context.doorbell is not server.context.doorbell
    with _running(build_runner(worker, worker="worker"), interval_of(worker.settings)):
        waited = _paged_within(api, receiver, 3)
    assert max(waited) <= BUDGET, waited
