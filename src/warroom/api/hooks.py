"""Webhooks (``/hooks/*``) and the triage queue (``/api/v1/signals``).

Each webhook authenticates an ingest (or admin) token from ``Authorization: Bearer`` or
``?token=``. An ingest token bound to a source (``warroom token create --source``, or by
its name: see :func:`warroom.services.identity.auth.bound_source`) opens that source's hook only.
Answers:

- 2xx only after the body's alerts (and any incident they declared) are committed;
- 400 naming every problem of a malformed or invalid body, nothing stored (PagerDuty's own
  ``{"status": "invalid event", ...}`` shape on ``/hooks/pagerduty``);
- 401/403 for a missing, wrong or non-ingest token; 413 (the request guard) when too large;
- 503 with ``Retry-After`` for a transient fault (database busy, locked or unreachable), as
  Alertmanager retries 5xx only.

Token lookups are cached for :data:`TOKEN_TTL` seconds so a storm of deliveries does not
cost a database round trip each. A token revoked in this process (``DELETE
/api/v1/tokens/...`` on this server) stops working at once; one revoked elsewhere (another
replica, ``warroom token revoke`` on the database) within that time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from warroom.api import models as m
from warroom.api.alert_decode import fast_batch
from warroom.api.problems import domain_problem, problem
from warroom.api.routes import _post, json_response
from warroom.api.security import CHALLENGE, Caller, responder, viewer
from warroom.bootstrap import App
from warroom.domain.alerts.formats import InvalidAlertPayload, parse_alert_body, parse_change_event
from warroom.domain.alerts.policy import policy_from_config
from warroom.domain.alerts.routing import AlertPolicyError
from warroom.domain.alerts.signals import ALERT_SOURCES, AlertSource
from warroom.domain.shared.errors import ConcurrencyConflict, DomainError, ValidationError
from warroom.services.alerts import queue as signals
from warroom.services.alerts.change_events import record_change_events
from warroom.services.alerts.ingest import AlertIngest
from warroom.services.identity import auth
from warroom.services.incidents.views import incident_view
from warroom.services.oncall.heartbeats import HeartbeatWatch
from warroom.services.ports.identity import TokenInfo
from warroom.storage.alert_store import is_transient_fault

log = logging.getLogger("warroom.hooks")

TOKEN_TTL = auth.REMEMBER_SECONDS
TOKEN_CACHE_SIZE = 1024
RETRY_AFTER = "5"
JSON_TYPES = ("application/json", "text/json")

Viewer = Annotated[Caller, Depends(viewer)]
Responder = Annotated[Caller, Depends(responder)]


class Refused(Exception):
    """An answer decided before ingest: its response is ready."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class TokenCache:
    """Remembers token lookups (by the token's sha256, never the secret) for ``ttl`` seconds."""

    def __init__(self, ttl: float = TOKEN_TTL, size: int = TOKEN_CACHE_SIZE) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[str, tuple[float, TokenInfo | None, int]] = {}
        self._lock = threading.Lock()

    def cached(self, plain: str) -> tuple[TokenInfo | None] | None:
        """``(info,)`` when a lookup of ``plain`` is remembered (info None: refused), else None.

        A lookup made before this process's latest revocation is not trusted."""
        hit = self._entries.get(auth.hash_token(plain))
        if hit is not None and time.monotonic() - hit[0] < self.ttl and hit[2] == auth.revocations():
            return (hit[1],)
        return None

    def lookup(self, app: App, plain: str) -> TokenInfo | None:
        """Look ``plain`` up (a database read when it is not remembered) and remember it."""
        remembered = self.cached(plain)
        if remembered is not None:
            return remembered[0]
        key = auth.hash_token(plain)
        now = time.monotonic()
        generation = auth.revocations()  # before the read: a revocation during it wins
        info = auth.authenticate(app.context, plain)
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[key] = (now, info, generation)
        return info


class Hooks:
    """Per-application state of the webhooks: the ingest service and the token cache."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.tokens = TokenCache()
        self._ingest: AlertIngest | None = None
        self._lock = threading.Lock()
        self.heartbeats = HeartbeatWatch(app.context)  # on call: watchdog alerts are beats

    @property
    def ingest(self) -> AlertIngest:
        """Built on first use: a wrong ``[alerts]`` setting then fails the request (503)."""
        with self._lock:
            if self._ingest is None:
                settings = self.app.settings
                # One writer: on PostgreSQL more writers measured no better on two cores
                # (bench/ingest.py), as they serialise on the same services' locks.
                self._ingest = AlertIngest(self.app.context, policy_from_config(settings.section("alerts")))
            return self._ingest

    async def caller(self, plain: str | None, source: str) -> TokenInfo:
        """The token ``plain`` if it may post to ``source``; raises :class:`Refused` otherwise.

        A remembered token is checked in the event loop; a database lookup goes to a thread."""
        if plain is None:
            raise Refused(
                problem(
                    401,
                    "an ingest token is required (Authorization: Bearer wr_... or ?token=)",
                    headers=CHALLENGE,
                )
            )
        remembered = self.tokens.cached(plain)
        if remembered is not None:
            info = remembered[0]
        else:
            info = await run_in_threadpool(self.tokens.lookup, self.app, plain)
        if info is None:
            raise Refused(problem(401, "the token is unknown or revoked", headers=CHALLENGE))
        if not auth.allows(info.role, "ingest"):
            raise Refused(
                problem(403, f"a {info.role} token may not post webhooks; it needs the ingest role")
            )
        bound = auth.bound_source(info)
        if info.role == "ingest" and bound is None:
            raise Refused(
                problem(
                    403, "this ingest token opens no webhook; create one with --source (warroom token create)"
                )
            )
        if bound is not None and bound != source:
            raise Refused(problem(403, f"this ingest token is for /hooks/{bound}, not /hooks/{source}"))
        return info


_HOOKS_LOCK = threading.Lock()


def hooks_of(request: Request) -> Hooks:
    """The application's webhook state, made once (two first requests must not make two)."""
    return _hooks_of_app(request.app)


def _hooks_of_app(fastapi_app: Any) -> Hooks:
    state = fastapi_app.state
    found: Hooks | None = getattr(state, "hooks", None)
    if found is None:
        with _HOOKS_LOCK:
            found = getattr(state, "hooks", None)
            if found is None:
                found = state.hooks = Hooks(state.warroom)
    return found


def _token(authorization: str | None, query: Callable[[], str | None]) -> str | None:
    """The bearer token of the ``Authorization`` header, else the ``token`` query parameter."""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        return value.strip() or None if scheme.lower() == "bearer" else None
    return query() or None


def _request_token(request: Request) -> str | None:
    return _token(request.headers.get("authorization"), lambda: request.query_params.get("token"))


def _decode(raw: bytes) -> Any:
    """The JSON body, or :class:`Refused` (400) naming what is wrong with it."""
    if not raw.strip():
        raise Refused(
            problem(400, "the request body is empty; send a JSON object", kind="malformed-json", field="body")
        )
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass  # the standard library decides, and names the problem, as it always has
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        detail = "the request body is not UTF-8 encoded JSON"
    except json.JSONDecodeError as error:
        detail = (
            f"the request body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        )
    except RecursionError:
        detail = "the request body is nested too deeply to read"
    raise Refused(problem(400, detail, kind="malformed-json", field="body"))


def _unavailable(error: BaseException) -> Response:
    log.warning(
        "webhook answered 503: %s (%s)",
        type(error).__name__,
        str(error).splitlines()[0] if str(error) else "",
    )
    return problem(
        503,
        "warroom cannot store alerts right now (database busy or unreachable); retry",
        kind="unavailable",
        headers={"Retry-After": RETRY_AFTER},
    )


def _invalid(source: str, error: InvalidAlertPayload) -> Response:
    if source == "pagerduty":
        body = {"status": "invalid event", "message": "Event object is invalid", "errors": error.errors}
        return Response(json.dumps(body), status_code=400, media_type="application/json")
    return problem(400, error.errors[0], kind="invalid-payload", field="body", errors=error.errors)


async def _guarded(work: Callable[[], Awaitable[Response]]) -> Response:
    """Await ``work``; map refusals and transient faults to answers."""
    try:
        return await work()
    except Refused as refused:
        return refused.response
    except InvalidAlertPayload as error:  # only change events get here; alerts map per source
        return problem(400, error.errors[0], kind="invalid-payload", field="body", errors=error.errors)
    except (ConcurrencyConflict, AlertPolicyError) as error:
        if isinstance(error, AlertPolicyError):
            log.error("alert ingest is misconfigured: %s", error)
        return _unavailable(error)
    except DomainError as error:
        return domain_problem(error)
    except Exception as error:
        if is_transient_fault(error):
            return _unavailable(error)
        raise


def build_hooks_router() -> APIRouter:
    router = APIRouter()
    for source in ALERT_SOURCES:
        _alert_hook(router, source)
    _change_hook(router)
    _signals(router)
    return router


_HOOK_DOCS = {
    "alertmanager": 'Prometheus Alertmanager webhook (`"version": "4"`); dedup on each alert\'s fingerprint.',
    "grafana": 'Grafana unified-alerting webhook contact point (`"version": "1"`).',
    "pagerduty": "A PagerDuty Events API v2 enqueue body; answers as PagerDuty does.",
    "generic": 'One alert object, or `{"alerts": [...]}`; dedup on fingerprint or a hash of the labels.',
}


async def answer_alerts(hooks: Hooks, source: AlertSource, raw: bytes, token: str | None) -> Response:
    """The whole answer to one alert webhook delivery: authenticate, parse, ingest.

    An ordinary Alertmanager or Grafana body is parsed by :func:`fast_batch` (the same batch
    in a third of the time); anything it declines is decoded and parsed the long way, which
    words the 400s. Parsing is CPU work either way; only the database work leaves the event
    loop, for the ingest's writer thread, whose commit completes the awaited future."""

    async def work() -> Response:
        caller = await hooks.caller(token, source)
        now = hooks.app.context.clock.now()
        batch = fast_batch(source, raw, now)  # Alertmanager and Grafana; None: the long way
        if batch is None:
            body = _decode(raw)
            try:
                batch = parse_alert_body(source, body, new_key=lambda: uuid.uuid4().hex, now=now)
            except InvalidAlertPayload as error:
                return _invalid(source, error)
            except RecursionError:
                raise Refused(problem(400, "the request body is nested too deeply", field="body")) from None
        result = await asyncio.wrap_future(hooks.ingest.submit(batch, caller.name))
        if hooks.heartbeats.stale:
            await asyncio.to_thread(hooks.heartbeats.refresh)
        beats = hooks.heartbeats.matching(source, [s.labels for s in batch.signals if s.status == "firing"])
        if beats:
            await asyncio.to_thread(hooks.heartbeats.record, beats)
        if batch.truncated_alerts:
            log.warning(
                "%s dropped %d alerts of group %s (max_alerts)",
                source,
                batch.truncated_alerts,
                batch.group_key,
            )
        if source == "pagerduty":
            answer = {"status": "success", "message": "Event processed", "dedup_key": batch.dedup_key}
            return json_response(answer, 202)
        extra = {"truncated_alerts": batch.truncated_alerts} if batch.truncated_alerts else {}
        return json_response({"status": "success"} | result.view() | extra, 200)

    return await _guarded(work)


def _methods(source: AlertSource) -> tuple[str, ...]:
    return ("POST", "PUT") if source == "grafana" else ("POST",)  # Grafana may be set to PUT


def _alert_hook(router: APIRouter, source: AlertSource) -> None:
    async def hook(request: Request) -> Response:
        raw = await request.body()
        return await answer_alerts(hooks_of(request), source, raw, _request_token(request))

    for method in _methods(source):
        router.add_api_route(
            f"/hooks/{source}",
            hook,
            methods=[method],
            tags=["webhooks"],
            name=f"hook_{source}",
            operation_id=f"hook_{source}" if method == "POST" else f"hook_{source}_{method.lower()}",
            summary=f"Receive {source} alerts",
            description=_HOOK_DOCS[source] + " Needs an ingest token (bearer header or `?token=`).",
            responses={400: {}, 401: {}, 403: {}, 413: {}, 503: {}},
        )


class _HookRoute:
    """What the request guard's metrics read of a matched route: its path template."""

    def __init__(self, path: str) -> None:
        self.path = path


class HookLane:
    """A pure ASGI lane for the alert webhooks, ahead of the router.

    During a storm every delivery is one of a handful of fixed paths; matching it against
    every route and running the framework's request machinery (dependency solving,
    exception layers, the request object) cost more CPU than parsing and storing the
    alerts. The lane answers exactly ``POST /hooks/<source>`` (and Grafana's ``PUT``) with
    :func:`answer_alerts`, the same function the declared routes call, so the answers are
    identical; anything else, including a path with a trailing slash or under a
    ``root_path``, goes on to the application as before. It sits inside the request guard,
    which has already read (and size-limited) the body and records the metrics.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._lanes = {
            (method, f"/hooks/{source}"): (source, _HookRoute(f"/hooks/{source}"))
            for source in ALERT_SOURCES
            for method in _methods(source)
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = (
            self._lanes.get((scope.get("method", ""), scope.get("path", "")))
            if scope["type"] == "http"
            else None
        )
        if lane is None or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        source, route = lane
        scope["route"] = route
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before sending its body
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        token = _token(authorization, lambda: QueryParams(scope.get("query_string", b"")).get("token"))
        response = await answer_alerts(_hooks_of_app(scope["app"]), source, b"".join(chunks), token)
        await response(scope, receive, send)


def _change_hook(router: APIRouter) -> None:
    @router.post(
        "/hooks/changes",
        operation_id="hook_changes",
        tags=["webhooks"],
        summary="Receive change events (CloudEvents 1.0: structured, batch or binary mode)",
        responses={400: {}, 401: {}, 403: {}, 413: {}, 503: {}},
    )
    async def changes_hook(request: Request) -> Response:
        hooks = hooks_of(request)
        raw = await request.body()
        headers = dict(request.headers)

        async def work() -> Response:
            caller = await hooks.caller(_request_token(request), "changes")
            return await run_in_threadpool(store, caller)

        def store(caller: TokenInfo) -> Response:
            media = headers.get("content-type", "").split(";")[0].strip().lower()
            binary = any(name.startswith("ce-") for name in headers) and not media.startswith(
                "application/cloudevents"
            )
            if binary and not (media in JSON_TYPES or media.endswith("+json")):
                try:
                    body: Any = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise Refused(
                        problem(400, "binary-mode data must be UTF-8 text or JSON", field="data")
                    ) from None
            else:
                body = _decode(raw)
            try:
                parsed = parse_change_event(body, headers=headers, now=hooks.app.context.clock.now())
                stored = record_change_events(hooks.app.context, parsed, caller.name)
            except ValidationError as error:
                return problem(
                    400, error.message, kind="invalid-payload", field=error.field, errors=[error.message]
                )
            answer = {
                "status": "success",
                "received": len(stored),
                "new": sum(1 for _, created in stored if created),
                "changes": [
                    {"id": change.id, "service": change.service, "created": created}
                    for change, created in stored
                ],
            }
            return json_response(answer, 200)

        return await _guarded(work)


# --- the triage queue over REST ---------------------------------------------------------------


class DeclareSignalsBody(m.Body):
    severity: m.SeverityValue | None = Field(
        None, description="SEV1..SEV4; default: the matching rule, else the policy."
    )
    why: m.Text = Field(None, description="Why the severity differs from the policy.")
    kind: m.Text = Field(None, description="availability, latency, data_integrity or security.")
    title: m.Text = Field(None, description="Default: alertname on service.")


class AttachSignalsBody(m.Body):
    incident: str = Field(description="The open incident, e.g. INC-7.")


class SilenceSignalsBody(m.Body):
    until: str = Field(description="ISO 8601 time with a zone, or 30m / 2h / 1d from now.")
    reason: str = Field(description="Why these signals may wait.")


def _signals(router: APIRouter) -> None:
    prefix = "/api/v1/signals"

    @router.get(
        prefix, tags=["signals"], operation_id="signals", summary="Waiting signals, grouped by service"
    )
    def list_signals(caller: Viewer, silenced: Annotated[bool, Query(alias="all")] = False) -> Response:
        return json_response(signals.signal_groups(caller.app.context, include_silenced=silenced))

    @router.post(
        prefix + "/{service}/declare",
        tags=["signals"],
        operation_id="signals_declare",
        status_code=201,
        summary="Declare an incident from a service's waiting signals",
    )
    def declare(request: Request, caller: Responder, service: str, body: DeclareSignalsBody) -> Response:
        def run() -> dict[str, Any]:
            ctx = caller.app.context
            state = signals.declare_from_signals(
                ctx,
                hooks_of(request).ingest.policy,
                service,
                caller.actor,
                severity=None if body.severity is None else str(body.severity),
                why=body.why,
                kind=body.kind,
                title=body.title,
            )
            return incident_view(state, now=ctx.clock.now(), policy=ctx.policy)

        return _post(request, caller, request.headers.get("idempotency-key"), body, run, 201)

    @router.post(
        prefix + "/{service}/attach",
        tags=["signals"],
        operation_id="signals_attach",
        summary="Attach a service's waiting signals to an open incident",
    )
    def attach(request: Request, caller: Responder, service: str, body: AttachSignalsBody) -> Response:
        def run() -> dict[str, Any]:
            ctx = caller.app.context
            labels = hooks_of(request).ingest.policy.scope_labels
            state = signals.attach_signals(ctx, service, body.incident, caller.actor, scope_labels=labels)
            return incident_view(state, now=ctx.clock.now(), policy=ctx.policy)

        return _post(request, caller, request.headers.get("idempotency-key"), body, run)

    @router.post(
        prefix + "/{service}/silence",
        tags=["signals"],
        operation_id="signals_silence",
        status_code=201,
        summary="Keep a service's signals out of the queue until a time, with a reason",
    )
    def silence(request: Request, caller: Responder, service: str, body: SilenceSignalsBody) -> Response:
        def run() -> dict[str, Any]:
            made = signals.silence_signals(caller.app.context, service, body.until, body.reason, caller.actor)
            return signals.silence_view(made)

        return _post(request, caller, request.headers.get("idempotency-key"), body, run, 201)
