"""``warroom xray --url``: the remote backend answers exactly what the embedded one does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from tests.api.conftest import T0, Clock, make_api
from tests.api.test_remote import outcome
from warroom.bootstrap import App
from warroom.cli.backend import EmbeddedBackend
from warroom.cli.remote import RemoteBackend

from .shop import shop


def test_remote_and_embedded_xray_answer_alike(sqlite_url: str, build_app: Callable[..., App]) -> None:
    clock = Clock()
    remote_app = build_app(sqlite_url, clock=clock)
    embedded_app = build_app(sqlite_url.replace("warroom.db", "embedded.db"), clock=clock)
    spans = shop(51, 80, 0.3, start_us=int((T0 - timedelta(minutes=5)).timestamp() * 1e6), retries=1)
    for app in (remote_app, embedded_app):
        app.context.xray.store.add(spans, T0)
    api = make_api(remote_app, clock)
    with api.client:
        embedded = EmbeddedBackend(lambda: embedded_app.context, "alice")
        remote = RemoteBackend("http://testserver", api.tokens["alice"], client=api.client)
        steps = [
            (
                "declare",
                None,
                {"title": "Checkout failing", "services": ["checkout"], "customer_impact": "10%"},
            ),
            ("xray", "INC-1", {}),
            ("xray_pin", "INC-1", {"finding": 0}),
            ("xray_pin", "INC-1", {"finding": 50}),
            ("xray", "INC-9", {}),
        ]
        answers = [(outcome(embedded, step), outcome(remote, step)) for step in steps]
    for mine, theirs in answers:
        assert mine == theirs
    assert answers[1][0][1]["verdict"].startswith("100% of failed checkout requests end in payments → adyen")
    assert answers[3][0][0] == "ValidationError" and answers[4][0][0] == "NotFound"
