"""Put the API on a FastAPI application: routes, problem+json errors, the request guard."""

from __future__ import annotations

from fastapi import FastAPI

from warroom.api.metrics import RequestMetrics
from warroom.api.middleware import MAX_BODY, GuardMiddleware
from warroom.api.oncall import build_oncall_router
from warroom.api.openapi import install as install_openapi
from warroom.api.ops import build_ops_router
from warroom.api.outbox import build_outbox_router
from warroom.api.problems import install_error_handlers
from warroom.api.routes import build_router
from warroom.api.statuspage import build_statuspage_router


def install(fastapi_app: FastAPI, *, max_body: int = MAX_BODY) -> RequestMetrics:
    """Add ``/api/v1``, ``/healthz``, ``/readyz`` and ``/metrics``; returns the metrics registry.

    The error handlers and the guard (size limit, metrics, last-resort 500) apply to every
    route of ``fastapi_app``, including those added later (the web room).
    """
    registry = RequestMetrics()
    fastapi_app.state.metrics = registry
    fastapi_app.include_router(build_router())
    fastapi_app.include_router(build_outbox_router())
    fastapi_app.include_router(build_statuspage_router())
    fastapi_app.include_router(build_oncall_router())
    fastapi_app.include_router(build_ops_router(registry))
    install_error_handlers(fastapi_app)
    install_openapi(fastapi_app)
    fastapi_app.add_middleware(GuardMiddleware, metrics=registry, max_body=max_body)
    return registry
