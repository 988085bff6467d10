"""The X-ray over HTTP: the OTLP/HTTP trace receiver (``POST /v1/traces``) and an
incident's X-ray (``GET /api/v1/incidents/{ref}/xray``, ``POST .../xray/pin``).

The receiver speaks OTLP/HTTP: ``application/x-protobuf`` or ``application/json``, optionally
``Content-Encoding: gzip``, answering an ``ExportTraceServiceResponse`` in the request's
encoding. It needs an ingest token for the source ``otlp`` (``Authorization: Bearer`` or
``?token=``). A body that cannot be read, holds too many spans or an oversized attribute is
refused whole (400, 413 or 415 problem+json) and nothing is stored; a transient database
fault is 503 with ``Retry-After``, which OTLP exporters retry.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from starlette.responses import Response

from warroom.api import models as m
from warroom.api.hooks import Hooks, Refused, _request_token, _unavailable, hooks_of
from warroom.api.problems import problem
from warroom.api.routes import PREFIX, Ref, Viewer, add_write_route, json_response, no_nul
from warroom.bootstrap import otlp_limits
from warroom.integrations import otlp
from warroom.services import operations as ops
from warroom.services.xray.ingest import ingest_spans
from warroom.storage.alert_store import is_transient_fault

log = logging.getLogger("warroom.xray")
SOURCE = "otlp"


class PinBody(m.Body):
    finding: int = Field(0, description="Which finding to pin: 0 is the verdict (see `findings`).")


async def receive_traces(hooks: Hooks, request: Request) -> Response:
    """Authenticate, parse the whole body, store its spans, answer OTLP."""
    try:
        await hooks.caller(_request_token(request), SOURCE)
    except Refused as refused:
        return refused.response
    config = hooks.app.context.xray
    if config is None or config.store is None:
        return problem(404, "OTLP ingest is off here (xray.ingest = false)", kind="not-found")
    content_type = request.headers.get("content-type")
    raw = await request.body()
    try:
        spans = otlp.parse(
            raw, content_type, request.headers.get("content-encoding"), otlp_limits(hooks.app.settings)
        )
    except otlp.OtlpRejected as error:
        return problem(error.status, str(error), kind="invalid-otlp", field=error.field)
    try:
        await asyncio.to_thread(ingest_spans, config.store, spans, hooks.app.context.clock.now())
    except Exception as error:
        if is_transient_fault(error):
            return _unavailable(error)
        raise
    body, media = otlp.response_body(content_type)
    return Response(body, status_code=200, media_type=media)


def build_xray_router() -> APIRouter:
    router = APIRouter()

    @router.post(
        "/v1/traces",
        operation_id="otlp_traces",
        tags=["webhooks"],
        summary="Receive OpenTelemetry traces (OTLP/HTTP, protobuf or JSON, gzip)",
        description="The endpoint OpenTelemetry SDKs and Collectors export to "
        "(`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=<warroom>/v1/traces`). Needs an ingest token "
        "for the source `otlp`.",
        responses={
            200: {
                "description": "An ExportTraceServiceResponse in the request's encoding.",
                "content": {
                    "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
                    "application/json": {"schema": {"type": "object"}},
                },
            },
            **{status: {} for status in (400, 401, 403, 413, 415, 503)},
        },
        openapi_extra={
            "requestBody": {
                "description": "An ExportTraceServiceRequest (OTLP/HTTP), optionally gzip'd.",
                "content": {
                    "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
                    "application/json": {"schema": {"type": "object"}},
                },
            }
        },
    )
    async def traces(request: Request) -> Response:
        return await receive_traces(hooks_of(request), request)

    @router.get(
        f"{PREFIX}/incidents/{{ref}}/xray",
        dependencies=[Depends(no_nul)],
        operation_id="xray",
        tags=["xray"],
        summary="The X-ray: call graph now vs baseline, where failures originate, retries vs timeouts",
    )
    def xray(caller: Viewer, ref: Ref) -> Response:
        return json_response(ops.xray(caller.app.context, ref))

    pins = APIRouter(prefix=PREFIX, tags=["xray"], dependencies=[Depends(no_nul)])
    add_write_route(
        pins, "/incidents/{ref}/xray/pin", "xray_pin", PinBody, ops.xray_pin, "Pin an X-ray finding as a fact"
    )
    router.include_router(pins)
    return router
