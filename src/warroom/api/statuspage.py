"""The status page over REST: components (read; set by hand) and scheduled maintenance.

Reads need a viewer token and writes a responder token; the public page itself is
``/status`` and ``/status.json`` (no token). Errors are problem+json naming the field."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import Field
from starlette.responses import Response

from warroom.api import models as m
from warroom.api.routes import PREFIX, IdempotencyKey, Responder, Viewer, _post, json_response, no_nul
from warroom.services.comms import statuspage_ops as status

ServiceName = Annotated[str, Path(max_length=100, description="The component's catalog service name.")]
WindowId = Annotated[str, Path(max_length=24, description="A maintenance id such as MNT-3.")]


class ComponentBody(m.Body):
    state: str = Field(
        max_length=40,
        description="operational, under_maintenance, degraded_performance, partial_outage, major_outage, "
        "or auto (back to the state incidents and maintenance give).",
    )
    reason: str | None = Field(None, max_length=500, description="Why (shown to responders only).")


class MaintenanceBody(m.Body):
    services: list[Annotated[str, Field(max_length=100)]] = Field(
        max_length=status.MAX_SERVICES, description="The components' catalog service names."
    )
    starts_at: str = Field(max_length=64, description="ISO 8601 time with a zone, e.g. 2026-12-05T02:00Z.")
    ends_at: str = Field(
        max_length=64, description="ISO 8601 time with a zone; at most 14 days after the start."
    )
    text: str = Field(max_length=2000, description="What the public reads.")


def build_statuspage_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["status page"], dependencies=[Depends(no_nul)])

    @router.get(
        "/status/components",
        operation_id="status_components",
        summary="The status page's components with their shown, automatic and hand-set states",
    )
    def components(caller: Viewer) -> Response:
        return json_response(status.components_view(caller.app.context))

    @router.post(
        "/status/components/{service}",
        operation_id="status_component_set",
        summary="Set a component's state by hand (or back to automatic with state auto)",
    )
    def component_set(
        request: Request,
        caller: Responder,
        service: ServiceName,
        body: ComponentBody,
        key: IdempotencyKey = None,
    ) -> Response:
        return _post(
            request,
            caller,
            key,
            body,
            lambda: status.set_component(caller.app.context, caller.actor, service, body.given()),
        )

    @router.get(
        "/status/maintenance",
        operation_id="status_maintenance",
        summary="Scheduled maintenance windows: upcoming and in progress (all=true: the last 90 days too)",
    )
    def maintenance(
        caller: Viewer, all: Annotated[bool, Query(description="Include past windows.")] = False
    ) -> Response:
        return json_response(status.maintenance_list(caller.app.context, {"all": all}))

    @router.post(
        "/status/maintenance",
        operation_id="status_maintenance_add",
        summary="Schedule maintenance: shown on the page, its services' alerts silenced while it runs",
        status_code=201,
    )
    def maintenance_add(
        request: Request, caller: Responder, body: MaintenanceBody, key: IdempotencyKey = None
    ) -> Response:
        return _post(
            request,
            caller,
            key,
            body,
            lambda: status.schedule(caller.app.context, caller.actor, None, body.given()),
            status=201,
        )

    @router.post(
        "/status/maintenance/{window}/cancel",
        operation_id="status_maintenance_cancel",
        summary="Cancel an upcoming window or end one in progress now (its silences end too)",
    )
    def maintenance_cancel(
        request: Request, caller: Responder, window: WindowId, key: IdempotencyKey = None
    ) -> Response:
        return _post(
            request, caller, key, None, lambda: status.cancel(caller.app.context, caller.actor, window, {})
        )

    return router
