"""PagerDuty's two official Python clients, unmodified, against a live warroom over HTTPS.

The only change a migrating team makes is the client's base URL (``https://<warroom>/hooks/
pagerduty`` instead of ``https://events.pagerduty.com``); the test's own certificate
authority is trusted through the environment (``SSL_CERT_FILE``, ``REQUESTS_CA_BUNDLE``), as
a company CA would be. ``pagerduty`` refuses any base URL that is not https, hence TLS.

Each client triggers, acknowledges and resolves an alert and sends a change event. The
clients retry 429 (and 5xx) forever or for long: warroom answers a key that can never work
with a 400, so they stop at once, and a 429 carries Retry-After, after which they succeed.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from tests.conftest import _unavailable as unavailable
from warroom.bootstrap import App, build
from warroom.domain.alerts.records import AlertRecord
from warroom.server import create_app
from warroom.services.identity import auth
from warroom.services.identity import integration_keys as keys
from warroom.settings import Settings

from .conftest import CATALOG, Clock, with_catalog

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pdpyras announces its successor, the pagerduty package
    import pdpyras
import pagerduty

pytestmark = pytest.mark.slow
RATE_PER_MINUTE = 60
STAMP = "2026-11-26T22:25:00Z"  # pagerduty 7.2's own timestamp helper fails on datetime.timezone


@dataclass
class Live:
    base: str  # what a migrating team puts where https://events.pagerduty.com was
    app: App
    keys: dict[str, str]  # a generated integration key per service
    ca: Path


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate for 127.0.0.1 signed by it: (ca, cert, key)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        unavailable("openssl is not installed (it makes the test's certificates)")
    ca, ca_key = folder / "ca.pem", folder / "ca.key"
    cert, key, csr = folder / "server.pem", folder / "server.key", folder / "server.csr"
    ext = folder / "server.ext"
    ext.write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = [
        [openssl, "req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=warroom test CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        [openssl, "req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        [openssl, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
         "-days", "2", "-extfile", ext],
    ]  # fmt: skip
    for command in run:
        subprocess.run([str(part) for part in command], check=True, capture_output=True, timeout=30)
    return ca, cert, key


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    ca, cert, key = _certificates(tmp_path)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'warroom.db'}",
        raw={"hooks": {"pagerduty_rate_per_minute": RATE_PER_MINUTE}},
    )
    app = with_catalog(build(settings, clock=Clock()), CATALOG)
    made = {}
    for service in ("checkout", "payments", "search"):
        _, _, created = keys.create_with_keys(app.context, f"pd-{service}", generate=1, service=service)
        made[service] = str(created[0][0])
    port = _free_port()
    config = uvicorn.Config(
        create_app(app),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        loop="asyncio",  # uvloop's TLS transports can outlive its loop at shutdown
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-pagerduty", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # how httpx (pagerduty) trusts a CA
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))  # how requests (pdpyras) does
    try:
        yield Live(f"https://127.0.0.1:{port}/hooks/pagerduty", app, made, ca)
    finally:
        # The clients have closed their connections; let the server see them go, or their
        # TLS transports outlive its loop.
        deadline = time.monotonic() + 3
        while server.server_state.connections and time.monotonic() < deadline:
            time.sleep(0.02)
        server.should_exit = True
        thread.join(timeout=10)
        from tests.conftest import dispose

        dispose(app)


def alert(live: Live, dedup_key: str) -> AlertRecord:
    with live.app.context.uow() as uow:
        found = uow.alerts.get("pagerduty", dedup_key)
    assert found is not None, dedup_key
    return found


def _changes(live: Live, service: str) -> list[Any]:
    with live.app.context.uow() as uow:
        now = live.app.context.clock.now()
        return uow.changes.between([service], now - timedelta(days=1), now)


def test_pdpyras_triggers_acknowledges_resolves_and_sends_a_change(live: Live) -> None:
    with pdpyras.EventsAPISession(live.keys["checkout"]) as session:
        session.url = live.base  # the one line a migrating team changes
        dedup = session.trigger(
            "High 5xx ratio on checkout (35%)",
            "checkout-7f9c.prod",
            severity="critical",
            custom_details={"route": "/api/cart", "error_ratio": 0.35},
        )
        assert alert(live, dedup).status == "firing"
        assert session.acknowledge(dedup) == dedup
        assert alert(live, dedup).acknowledged_at is not None
        assert session.resolve(dedup) == dedup
    record = alert(live, dedup)
    assert (record.service, record.status, record.labels["route"]) == ("checkout", "resolved", "/api/cart")
    with pdpyras.ChangeEventsAPISession(live.keys["checkout"]) as changes:
        changes.url = live.base
        changes.submit(
            "Deployed checkout-api v2.14.0", source="ci", timestamp=STAMP, custom_details={"v": "2.14.0"}
        )
    assert [(c.summary, c.source, c.actor) for c in _changes(live, "checkout")] == [
        ("Deployed checkout-api v2.14.0", "pagerduty", "pd-checkout")
    ]


def test_the_pagerduty_client_triggers_acknowledges_resolves_and_sends_a_change(live: Live) -> None:
    client = pagerduty.EventsApiV2Client(live.keys["payments"], base_url=live.base)  # the one change
    try:
        dedup = client.trigger("Card authorisations failing", "payments-api.prod", dedup_key="pay/auth")
        assert dedup == "pay/auth"
        assert client.acknowledge(dedup) == dedup
        assert alert(live, dedup).acknowledged_at is not None
        assert client.resolve(dedup) == dedup
        client.submit("Flag payments.new_tokenizer 10% -> 100%", source="flags", timestamp=STAMP,
                      custom_details={"kind": "flag"})  # fmt: skip
    finally:
        client.close()
    record = alert(live, "pay/auth")
    assert (record.service, record.status) == ("payments", "resolved")
    assert [(c.kind.value, c.summary) for c in _changes(live, "payments")] == [
        ("flag", "Flag payments.new_tokenizer 10% -> 100%")
    ]


def refusal(call: Callable[[], object]) -> tuple[int, Any]:
    """The status and body with which a client call failed (the error is not kept: its
    traceback would keep the client's connection open)."""
    try:
        call()
    except (pdpyras.PDClientError, pagerduty.Error) as error:
        response = error.response
        assert response is not None
        return response.status_code, response.json()
    raise AssertionError("the call went through")


def test_both_clients_stop_at_once_on_a_key_warroom_does_not_know(live: Live) -> None:
    """A 400 is final for both clients (a 429 or a 5xx would keep them retrying)."""
    auth.revoke_token(live.app.context, "pd-search")
    invalid = (
        400,
        {"status": "invalid event", "message": "Event object is invalid", "errors": ["Invalid routing key"]},
    )
    started = time.monotonic()
    for routing_key in ("0" * 32, live.keys["search"]):  # unknown, and revoked
        with pdpyras.EventsAPISession(routing_key) as session:
            session.url = live.base
            assert refusal(partial(session.trigger, "x", "y")) == invalid
        with pdpyras.ChangeEventsAPISession(routing_key) as changes:
            changes.url = live.base
            assert refusal(partial(changes.submit, "a change", timestamp=STAMP)) == invalid
        client = pagerduty.EventsApiV2Client(routing_key, base_url=live.base)
        try:
            assert refusal(partial(client.trigger, "x", "y")) == invalid
            assert refusal(partial(client.submit, "a change", timestamp=STAMP)) == invalid
        finally:
            client.close()
    token, _ = auth.create_token(live.app.context, "pagerduty-old", "ingest")
    with pdpyras.EventsAPISession(token) as session:  # a warroom token is not a key
        session.url = live.base
        assert refusal(partial(session.trigger, "x", "y")) == (
            400,
            {
                "status": "invalid event",
                "message": "Event object is invalid",
                "errors": [
                    "Length of 'routing_key' is incorrect (should be 32 characters)",
                    "'routing_key' cannot contain non-alphanumeric characters.",
                ],
            },
        )
    assert time.monotonic() - started < 5  # no retries: each call was one request


def test_over_the_rate_a_client_waits_as_told_then_gets_through(live: Live) -> None:
    key = live.keys["search"]
    body = {"routing_key": key, "event_action": "trigger", "dedup_key": "burst",
            "payload": {"summary": "s", "source": "x", "severity": "info"}}  # fmt: skip
    with httpx.Client(verify=ssl.create_default_context(cafile=live.ca), timeout=10) as raw:
        answers = [raw.post(live.base + "/v2/enqueue", json=body).status_code for _ in range(RATE_PER_MINUTE)]
        assert answers == [202] * RATE_PER_MINUTE
        over = raw.post(live.base + "/v2/enqueue", json=body)
        assert over.status_code == 429 and over.headers["retry-after"] == "1"
    started = time.monotonic()
    with pdpyras.EventsAPISession(key) as session:
        session.url = live.base
        assert session.trigger("after the burst", "x", dedup_key="later", severity="info") == "later"
    assert time.monotonic() - started > 0.5  # it was told 429 first, waited, and got through
