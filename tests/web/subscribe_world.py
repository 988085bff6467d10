"""A status page people can subscribe to, for the tests: the whole server app (web, API),
a catalog with two services, a real SMTP server (aiosmtpd) and a webhook receiver the test
starts, and the outbox delivered for real."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.comms.support import Receiver, Sender, SmtpServer, http_receiver, smtp_server
from warroom.bootstrap import App, build, build_notify, delivery_config
from warroom.server import create_app
from warroom.services.comms import delivery
from warroom.settings import Settings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

BASE = "http://testserver"
CATALOG = """\
teams:
  - name: storefront
    members: [alice]
services:
  - name: checkout
    team: storefront
    status_page: {name: checkout}
  - name: search
    team: storefront
    status_page: {name: search}
"""
LINK = re.compile(r"(http://testserver/status/(?:confirm|unsubscribe)\?token=[A-Za-z0-9_.\-]+)")


@dataclass
class World:
    app: App
    client: TestClient
    smtp: SmtpServer
    receiver: Receiver
    sender: Sender
    settings: Settings

    def deliver(self) -> delivery.DeliveryReport:
        notify = build_notify(self.settings)
        return delivery.deliver(self.app.context, delivery_config(self.app, notify), self.sender(notify))

    def mails_to(self, address: str) -> list[EmailMessage]:
        return [m for _, rcpt, m in self.smtp.mailbox.messages if address in rcpt]

    def subscribe(self, **form: Any) -> Any:
        return self.client.post("/status/subscribe", data=form)


def link_in(message: EmailMessage, kind: str) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    found = [url for url in LINK.findall(text) if f"/status/{kind}?" in url]
    assert found, f"no {kind} link in: {text}"
    return found[0]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@contextmanager
def subscribe_world(tmp_path: Path, database_url: str, **subscribers: Any) -> Iterator[World]:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    with smtp_server() as smtp, http_receiver() as receiver:
        raw = {
            "secret_key": "a test secret that is long enough",
            "notify": {"base_url": BASE, "smtp": {"host": "127.0.0.1", "port": smtp.port}},
            "subscribers": {"allow_private_webhooks": True, **subscribers},
        }
        settings = Settings(database_url=database_url, catalog_path=catalog, raw=raw)
        app = build(settings)
        sender = Sender()
        try:
            with TestClient(create_app(app), follow_redirects=False) as client:
                yield World(app, client, smtp, receiver, sender, settings)
        finally:
            for close in sender.closers:
                close()
            engine = getattr(app.context.uow, "args", (None,))[0]
            if engine is not None:
                engine.dispose()
