"""PagerDuty's Events API v2 under ``/hooks/pagerduty``, for PagerDuty's own clients unchanged.

PagerDuty's clients (``pdpyras``, ``pagerduty``, and tools built on them) POST
``{base}/v2/enqueue`` (trigger, acknowledge, resolve) and ``{base}/v2/change/enqueue``
(change events) with the integration's ``routing_key`` in the body as the only credential.
With ``base`` set to ``https://warroom.example.com/hooks/pagerduty`` they work unchanged:

- the ``routing_key`` authenticates as the ingest token that carries it as an integration
  key (:mod:`warroom.services.identity.integration_keys`) and routes to the key's service;
  an ingest token in ``Authorization`` or ``?token=`` works too (the key then routes nothing);
- answers are PagerDuty's: 202 ``{"status", "message", "dedup_key"}``; 400 ``{"status",
  "message", "errors"}`` for an invalid event or an unknown key (``Invalid routing key``);
  429 with ``Retry-After`` past ``[hooks] pagerduty_rate_per_minute`` events per key (a
  token bucket in this process, PagerDuty's 120 by default). The clients retry 429 and 5xx
  and stop on any other 4xx, so a key that can never work is a 400, never a 429.

These paths take the normal route (``HookLane`` keeps ``POST /hooks/<source>`` only).
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from warroom.api.hooks import Hooks, _guarded, _request_token, hooks_of
from warroom.domain.alerts.formats import InvalidAlertPayload, parse_pagerduty, parse_pagerduty_change
from warroom.domain.shared.errors import ValidationError
from warroom.services.alerts.change_events import record_change_events
from warroom.services.identity import integration_keys as keys
from warroom.settings import Settings

ENQUEUE = "/hooks/pagerduty/v2/enqueue"
CHANGE = "/hooks/pagerduty/v2/change/enqueue"
DEFAULT_RATE = 120.0  # PagerDuty's own: about 120 events a minute per integration key


def rate_per_minute(settings: Settings) -> float:
    """``[hooks] pagerduty_rate_per_minute`` (0: no limit); raises ``SettingsError`` when wrong."""
    return settings.number("hooks", "pagerduty_rate_per_minute", DEFAULT_RATE)


class RateLimiter:
    """A token bucket per key: ``per_minute`` events a minute, with bursts of as many."""

    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = max(1.0, per_minute) if per_minute > 0 else 0.0
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """Take one event from ``key``'s bucket: 0 when allowed, else the seconds until it would be."""
        if self.capacity == 0:
            return 0.0
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate


class EventsV2:
    """Per-application state: the webhooks' state and the rate limiter."""

    def __init__(self, hooks: Hooks) -> None:
        self.hooks = hooks
        self.limiter = RateLimiter(rate_per_minute(hooks.app.settings))


_STATE_LOCK = threading.Lock()


def _state(request: Request) -> EventsV2:
    state = request.app.state
    found: EventsV2 | None = getattr(state, "pagerduty_events", None)
    if found is None:
        with _STATE_LOCK:
            found = getattr(state, "pagerduty_events", None)
            if found is None:
                found = state.pagerduty_events = EventsV2(hooks_of(request))
    return found


def _answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _invalid(errors: list[str]) -> Response:
    return _answer(400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors})


class _Answered(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        unrecognized = {
            "status": "Unrecognized object",
            "message": "Event object format is unrecognized",
            "errors": ["JSON parse error"],
        }
        raise _Answered(_answer(400, unrecognized)) from None


async def _sender(
    events: EventsV2, token: str | None, body: Any, check: Callable[[], object]
) -> tuple[str, str | None]:
    """The actor and the service of an event, after authentication and the rate limit.

    ``check`` validates the body (raising its PagerDuty errors); it runs first when the
    routing key cannot be a key at all, so the answer lists every problem."""
    if token is not None:
        info = await events.hooks.caller(token, "pagerduty")
        name, service, bucket = info.name, None, f"token:{info.id}"
    else:
        routing_key = body.get("routing_key") if isinstance(body, dict) else None
        if not isinstance(routing_key, str) or not keys.is_key_shaped(routing_key):
            check()
            raise _Answered(_invalid(["Invalid routing key"]))
        found = await run_in_threadpool(keys.authenticate_key, events.hooks.app.context, routing_key)
        if found is None:
            raise _Answered(_invalid(["Invalid routing key"]))
        name, service, bucket = found.token.name, found.service, f"key:{found.key.id}"
    wait = events.limiter.wait(bucket)
    if wait > 0:
        raise _Answered(
            _answer(
                429,
                {"status": "throttle event", "message": "Request Limit Exceeded"},
                {"Retry-After": str(max(1, math.ceil(wait)))},
            )
        )
    return name, service


def _new_key() -> str:
    return uuid.uuid4().hex


async def answer_event(events: EventsV2, raw: bytes, token: str | None) -> Response:
    """``/v2/enqueue``: one trigger, acknowledge or resolve, stored before the 202."""

    async def work() -> Response:
        try:
            body = _decode(raw)
            now = events.hooks.app.context.clock.now()  # the receive time bounds payload.timestamp
            name, service = await _sender(
                events, token, body, lambda: parse_pagerduty(body, new_key=_new_key, now=now)
            )
            batch = parse_pagerduty(body, new_key=_new_key, service=service, now=now)
        except _Answered as answered:
            return answered.response
        except InvalidAlertPayload as error:
            return _invalid(error.errors)
        await asyncio.wrap_future(events.hooks.ingest.submit(batch, name))
        return _answer(202, {"status": "success", "message": "Event processed", "dedup_key": batch.dedup_key})

    return await _guarded(work)


async def answer_change(events: EventsV2, raw: bytes, token: str | None) -> Response:
    """``/v2/change/enqueue``: one change event into the change log, stored before the 202."""

    async def work() -> Response:
        try:
            body = _decode(raw)
            name, service = await _sender(
                events, token, body, lambda: parse_pagerduty_change(body, service="-", new_key=_new_key)
            )
            change = parse_pagerduty_change(body, service=service, new_key=_new_key)
            await run_in_threadpool(
                record_change_events, events.hooks.app.context, [change], name, source="pagerduty"
            )
        except _Answered as answered:
            return answered.response
        except InvalidAlertPayload as error:
            return _invalid(error.errors)
        except ValidationError as error:
            return _invalid([f"'{error.field}' {error.message}"])
        return _answer(202, {"status": "success", "message": "Change event processed", "dedup_key": None})

    return await _guarded(work)


_JSON = {"application/json": {"schema": {"type": "object"}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "Stored (PagerDuty's `status`, `message`, `dedup_key`).", "content": _JSON},
    400: {},
    401: {},
    403: {},
    413: {},
    429: {
        "description": "Over `[hooks] pagerduty_rate_per_minute` for this key; see Retry-After.",
        "content": _JSON,
    },
    503: {},
}


def build_pagerduty_router() -> APIRouter:
    router = APIRouter()

    @router.post(
        ENQUEUE,
        status_code=202,
        tags=["webhooks"],
        operation_id="hook_pagerduty_v2_enqueue",
        summary="PagerDuty Events API v2: trigger, acknowledge or resolve",
        description="The body's `routing_key` is an integration key of a pagerduty ingest token "
        "(or send the token as for every hook). Answers as PagerDuty does.",
        responses=_RESPONSES,
    )
    async def enqueue(request: Request) -> Response:
        return await answer_event(_state(request), await request.body(), _request_token(request))

    @router.post(
        CHANGE,
        status_code=202,
        tags=["webhooks"],
        operation_id="hook_pagerduty_v2_change",
        summary="PagerDuty Change Events API: one change into the change log",
        description="The body's `routing_key` is an integration key; the change goes to its service. "
        "Answers as PagerDuty does.",
        responses=_RESPONSES,
    )
    async def change(request: Request) -> Response:
        return await answer_change(_state(request), await request.body(), _request_token(request))

    return router
