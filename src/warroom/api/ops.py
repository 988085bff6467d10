"""Operations endpoints: ``/healthz`` (process up), ``/readyz`` (database reachable) and
``/metrics`` (Prometheus exposition of warroom itself). No token: they reveal no content.

``/readyz`` is about the database: it stays 200 while a notification channel fails, and
lists such channels under ``notifications`` (failing, circuit open, dead letters), as
``/metrics`` counts them (``warroom_outbox_*`` by channel and state)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from starlette.responses import Response

from warroom.api import metrics
from warroom.api.problems import problem
from warroom.api.routes import json_response
from warroom.api.security import warroom_app
from warroom.bootstrap import App
from warroom.services.comms import health, outbox
from warroom.services.incidents import monitoring

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"

log = logging.getLogger("warroom.api")


def build_ops_router(registry: metrics.RequestMetrics) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is up")
    async def healthz() -> Response:
        return json_response({"status": "ok"})

    @router.get("/readyz", summary="The database answers", responses={503: {"description": "Not ready"}})
    def readyz(request: Request) -> Response:
        try:
            monitoring.database_ready(warroom_app(request).context)
        except Exception as exc:
            log.warning("not ready: the database does not answer (%s)", type(exc).__name__)
            return problem(503, "the database does not answer", kind="not-ready")
        try:
            notifications = health.notifications_health(warroom_app(request).context)
        except Exception as exc:  # ready all the same: the database answered
            log.warning("readyz: the outbox could not be read (%s)", type(exc).__name__)
            notifications = {"status": "unknown", "channels": []}
        return json_response({"status": "ready", "notifications": notifications})

    @router.get("/metrics", summary="Prometheus text exposition")
    def prometheus(request: Request) -> Response:
        blocks = [registry.render()]
        try:
            counts = monitoring.open_by_severity(warroom_app(request).context)
            up = 1
        except Exception as exc:
            log.warning("metrics: the database does not answer (%s)", type(exc).__name__)
            counts, up = {}, 0
        blocks.append(metrics.single("warroom_database_up", "1 when the database answered.", "gauge", up))
        if counts:
            blocks.append(
                metrics.gauge("warroom_open_incidents", "Open incidents by severity.", "severity", counts)
            )
            blocks.extend(_outbox_metrics(warroom_app(request)))
        signal = getattr(request.app.state, "live", None)
        if signal is not None:
            blocks.append(
                metrics.single(
                    "warroom_change_feed_connected",
                    "1 while this replica listens for changed incidents (PostgreSQL LISTEN/NOTIFY).",
                    "gauge",
                    int(signal.feed_connected()),
                )
            )
            blocks.append(
                metrics.single(
                    "warroom_live_streams",
                    "Live room streams open on this replica.",
                    "gauge",
                    signal.open_streams(),
                )
            )
        rss = metrics.resident_memory_bytes()
        if rss is not None:
            blocks.append(
                metrics.single(
                    "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", rss
                )
            )
        return Response(metrics.exposition(blocks), media_type=PROMETHEUS_TEXT)

    return router


def _outbox_metrics(app: App) -> list[list[str]]:
    """``warroom_outbox_*``: deliveries by channel and state, each channel's circuit and
    consecutive failures, unrouted notifications."""
    ctx = app.context
    try:
        states = outbox.channel_states(ctx)
        unrouted = outbox.outbox_counts(ctx)["unrouted"]
    except Exception as exc:
        log.warning("metrics: the outbox could not be read (%s)", type(exc).__name__)
        return []
    try:
        configured = sorted(ctx.channels or ())
    except Exception:  # a broken [notify]: the channels with deliveries still show
        configured = []
    known = {c.name: c for c in states}
    channels = sorted(set(known) | set(configured))
    by_state = [
        ({"channel": c.name, "state": state}, getattr(c, state))
        for c in states
        for state in ("pending", "delivered", "dead")
    ]
    circuit = [
        ({"channel": name}, int(known[name].circuit_open) if name in known else 0) for name in channels
    ]
    failures = [({"channel": name}, known[name].failures if name in known else 0) for name in channels]
    return [
        metrics.labelled(
            "warroom_outbox_deliveries",
            "Notification deliveries by channel and state (pending, delivered, dead).",
            by_state,
        ),
        metrics.labelled(
            "warroom_outbox_channel_circuit_open",
            "1 while a channel's circuit is open: nothing is sent to it until a probe gets through.",
            circuit,
        ),
        metrics.labelled(
            "warroom_outbox_channel_failures",
            "Consecutive failed delivery attempts per channel (0 after a delivery).",
            failures,
        ),
        metrics.single(
            "warroom_outbox_unrouted", "Notifications not yet fanned out to channels.", "gauge", unrouted
        ),
    ]
