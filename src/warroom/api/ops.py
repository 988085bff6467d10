"""Operations endpoints: ``/healthz`` (process up), ``/readyz`` (database reachable) and
``/metrics`` (Prometheus exposition of warroom itself). No token: they reveal no content."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from starlette.responses import Response

from warroom.api import metrics
from warroom.api.problems import problem
from warroom.api.routes import json_response
from warroom.api.security import warroom_app
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
        return json_response({"status": "ready"})

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
        rss = metrics.resident_memory_bytes()
        if rss is not None:
            blocks.append(
                metrics.single(
                    "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", rss
                )
            )
        return Response(metrics.exposition(blocks), media_type=PROMETHEUS_TEXT)

    return router
