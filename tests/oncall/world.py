"""A small on-call world on a real database: people reachable through the real Apprise
library (``json://`` to a local HTTP receiver) and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from tests.comms.support import Receiver, SmtpServer
from warroom.bootstrap import App, build_notify, build_oncall, delivery_config
from warroom.domain.incidents.commands import Declaration
from warroom.domain.incidents.severity import Impact, IncidentKind
from warroom.domain.incidents.state import IncidentState
from warroom.integrations.notify_config import make_notifier
from warroom.services.comms import delivery
from warroom.services.comms.outbox import DeliveryReport
from warroom.services.incidents import commands as cases
from warroom.services.oncall import directory, escalation, pages
from warroom.services.oncall.config import OncallConfig
from warroom.settings import Settings

SECRET = "test secret key for ack links"


def oncall_document(receiver_url: str) -> dict[str, Any]:
    apprise_url = receiver_url.replace("http://", "json://")
    return {
        "people": [
            {
                "handle": "alice",
                "name": "Alice",
                "time_zone": "Europe/Berlin",
                "teams": ["payments"],
                "contacts": [
                    {"name": "push", "kind": "apprise", "address": apprise_url},
                    {"name": "mail", "kind": "email", "address": "alice@example.com"},
                ],
                "rules": [{"method": "push", "delay_minutes": 0}, {"method": "mail", "delay_minutes": 2}],
            },
            {
                "handle": "bob",
                "name": "Bob",
                "teams": ["payments"],
                "contacts": [{"name": "push", "kind": "apprise", "address": apprise_url + "/bob"}],
            },
            {"handle": "ivan", "name": "Ivan", "email": "ivan@example.com"},
        ],
        "schedules": [
            {
                "name": "payments-primary",
                "time_zone": "Europe/Berlin",
                "team": "payments",
                "layers": [{"name": "weekly", "members": ["alice", "bob"], "start": "2026-11-23T09:00"}],
            },
            {
                "name": "incident-commanders",
                "time_zone": "UTC",
                "layers": [
                    {"name": "ic", "members": ["ivan"], "start": "2026-01-05T00:00", "rotation": "weekly"}
                ],
            },
        ],
        "policies": [
            {
                "name": "payments",
                "team": "payments",
                "ack_timeout_minutes": 30,
                "steps": [
                    {"targets": ["schedule:payments-primary"], "wait_minutes": 5},
                    {"targets": ["person:bob"], "wait_minutes": 5},
                ],
            },
            {
                "name": "fallback",
                "fallback": True,
                "steps": [{"targets": ["schedule:incident-commanders"], "wait_minutes": 10}],
            },
        ],
        "services": {"checkout": "payments"},
        "teams": [{"name": "payments", "members": ["alice", "bob"], "policy": "payments"}],
    }


def settings_for(url: str, smtp: SmtpServer | None, **oncall: Any) -> Settings:
    notify: dict[str, Any] = {"base_url": "http://warroom.test", "retry_base_seconds": 1}
    if smtp is not None:
        notify["smtp"] = {"host": "127.0.0.1", "port": smtp.port, "timeout": 5}
    return Settings(database_url=url, raw={"secret_key": SECRET, "notify": notify, "oncall": oncall})


@dataclass
class World:
    app: App
    config: OncallConfig

    @property
    def ctx(self) -> Any:
        return self.app.context

    def deliver(self) -> DeliveryReport:
        notify = build_notify(self.app.settings)
        notifier, close = make_notifier(notify)
        try:
            return delivery.deliver(self.ctx, delivery_config(self.app, notify), notifier)
        finally:
            close()

    def escalate(self) -> int:
        return escalation.escalate(self.ctx, self.config)

    def declare(
        self, title: str = "Checkout returns 5xx", services: tuple[str, ...] = ("checkout",)
    ) -> IncidentState:
        decl = Declaration(
            title=title,
            kind=IncidentKind.AVAILABILITY,
            services=list(services),
            impact=Impact(customer_share=0.12),
        )
        return cases.declare_incident(self.ctx, decl, "alertmanager")

    def page_incident(self, state: IncidentState, **kw: Any) -> Any:
        """What alert ingest does after declaring: open the page in the same transaction."""
        with self.ctx.uow() as uow:
            page = pages.page_incident(self.ctx, uow, state, actor="alertmanager", **kw)
            uow.commit()
        return page


def make_world(app: App, receiver: Receiver, smtp: SmtpServer | None, **oncall: Any) -> World:
    app = dataclasses.replace(app, settings=settings_for(app.settings.database_url, smtp, **oncall))
    directory.apply_document(app.context, oncall_document(receiver.url))
    return World(app, build_oncall(app))
