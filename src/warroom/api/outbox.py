"""The outbox over REST: ``GET /api/v1/outbox`` and ``POST /api/v1/outbox/retry``, so
``warroom outbox list`` and ``retry`` work with ``--url`` and answer the same JSON as on
the local database. Both need a responder token (responders fix what did not reach
people during an incident). The status page's subscribers (``GET
/api/v1/status/subscribers``, ``POST .../remove``: ``warroom status subscribers``) need
an admin token. Errors are problem+json naming the field."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field
from starlette.responses import Response

from warroom.api import models as m
from warroom.api.routes import PREFIX, Admin, IdempotencyKey, Responder, _post, json_response, no_nul
from warroom.services.comms import operations as comms

MAX_ID = comms.MAX_ID


class RetryBody(m.Body):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        None, description="Dead (or pending) deliveries to make due again now."
    )
    all_dead: bool | None = Field(None, description="Retry every dead delivery.")


class RemoveSubscriberBody(m.Body):
    id: int = Field(ge=1, le=MAX_ID, description="The subscriber to remove (from the list).")


def build_outbox_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["outbox"], dependencies=[Depends(no_nul)])

    @router.get(
        "/outbox",
        operation_id="outbox_list",
        summary="Notification deliveries, newest first, with their last error (dead letters by default)",
    )
    def outbox_list(
        caller: Responder,
        status: Annotated[
            str, Query(max_length=20, description="dead (the default), pending, delivered or all.")
        ] = "dead",
        limit: Annotated[int, Query(description="At most this many, 1..10000.")] = 100,
    ) -> Response:
        return json_response(comms.outbox_list(caller.app.context, {"status": status, "limit": limit}))

    @router.post(
        "/outbox/retry",
        operation_id="outbox_retry",
        summary="Make dead deliveries due again with fresh attempts (same idempotency key)",
    )
    def outbox_retry(
        request: Request, caller: Responder, body: RetryBody, key: IdempotencyKey = None
    ) -> Response:
        return _post(request, caller, key, body, lambda: comms.outbox_retry(caller.app.context, body.given()))

    @router.get(
        "/status/subscribers",
        operation_id="subscriber_list",
        summary="The status page's subscribers (email and webhook), oldest first",
        tags=["status"],
    )
    def subscriber_list(
        caller: Admin, limit: Annotated[int, Query(description="At most this many, 1..10000.")] = 1000
    ) -> Response:
        return json_response(comms.subscriber_list(caller.app.context, {"limit": limit}))

    @router.post(
        "/status/subscribers/remove",
        operation_id="subscriber_remove",
        summary="Remove a status page subscriber; nothing about it is kept",
        tags=["status"],
        responses={404: {"description": "No subscriber has this id (any more)."}},
    )
    def subscriber_remove(
        request: Request, caller: Admin, body: RemoveSubscriberBody, key: IdempotencyKey = None
    ) -> Response:
        return _post(
            request, caller, key, body, lambda: comms.subscriber_remove(caller.app.context, body.given())
        )

    return router
