"""``/api/v1/device``: the CLI's device-code sign-in (``warroom login --url``).

Both routes are open (the caller has no token yet): one starts a login, the other is
polled with the device code until the person approves it on ``/device`` in the web, and
then answers a new personal token, once. Unknown, expired or used codes answer 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from warroom.api.models import Body
from warroom.api.openapi import _problem
from warroom.api.routes import json_response
from warroom.api.security import warroom_app
from warroom.services.identity import device


class DeviceTokenBody(Body):
    device_code: str = Field(
        max_length=device.MAX_CODE, description="The code `POST /api/v1/device` answered."
    )


def build_device_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["tokens"])

    @router.post(
        "/device", operation_id="device_start", summary="Start a device-code sign-in", status_code=201
    )
    async def start(request: Request) -> Response:
        app = warroom_app(request)
        began = await run_in_threadpool(device.start, app.context)
        base = str(request.base_url).rstrip("/")
        return json_response(
            {
                "device_code": began.device_code,
                "user_code": began.user_code,
                "verification_uri": f"{base}/device",
                "expires_in": int(device.LIFETIME.total_seconds()),
                "interval": began.interval,
            },
            201,
        )

    @router.post(
        "/device/token",
        operation_id="device_token",
        summary="Poll a device-code sign-in",
        responses={
            202: {"description": "Not approved yet: poll again after `interval` seconds."},
            404: _problem(404),
        },
    )
    async def token(request: Request, body: DeviceTokenBody) -> Response:
        app = warroom_app(request)
        plain = await run_in_threadpool(device.redeem, app.context, body.device_code)
        if plain is None:
            return json_response({"status": "pending"}, 202)
        return json_response({"status": "approved", "token": plain})

    return router
