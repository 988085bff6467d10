"""The public's subscription pages (no login): subscribe by email or webhook, confirm,
unsubscribe.

``/status/subscribe`` takes the form; an email subscription waits for the signed link in
its confirmation mail (double opt-in), a webhook one is active at once and its signing
secret is shown once. The confirm and unsubscribe links' GET only shows a button: mail
scanners fetch links on their own and must not act for the person. Their POST acts; the
unsubscribe POST is also RFC 8058's one-click (``List-Unsubscribe-Post``). Bad input is
a plain sentence and a 4xx, and stores nothing; a flood from one client is 429 with
``Retry-After``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from warroom.domain.shared.errors import DomainError, RateLimited, ValidationError
from warroom.services.comms import subscribers as subs
from warroom.web import session
from warroom.web.forms import status_of
from warroom.web.templating import SECURITY_HEADERS, render

Token = Query("", max_length=500)
MAX_FIELDS = 80

# Per client: at most this many subscribe requests in the window (the per-address limit,
# one confirmation mail an hour, lives in the domain and holds across replicas).
CLIENT_BURST = 5
CLIENT_WINDOW = 600.0


class ClientLimiter:
    """A sliding window of request times per client address, in this process."""

    def __init__(
        self,
        burst: int = CLIENT_BURST,
        window: float = CLIENT_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.window = window
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, client: str) -> float:
        """0 when ``client`` may go on (the request counts), else seconds until it may."""
        now = self._clock()
        with self._lock:
            if len(self._seen) > 10_000:  # forget the quiet ones rather than grow without end
                self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > now - self.window}
            times = self._seen.setdefault(client, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.burst:
                return times[0] + self.window - now
            times.append(now)
            return 0.0


def _limiter(request: Request) -> ClientLimiter:
    found: ClientLimiter | None = getattr(request.app.state, "warroom_subscribe_limiter", None)
    if found is None:
        found = ClientLimiter()
        request.app.state.warroom_subscribe_limiter = found
    return found


def _html(status: int = 200, headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    values = {"user": None, "csrf": "", "error": None, "mode": "form", "values": {}, "chosen": []} | context
    return HTMLResponse(
        render("subscribe.html", **values), status_code=status, headers=SECURITY_HEADERS | (headers or {})
    )


def _refused(exc: DomainError, **context: Any) -> HTMLResponse:
    status = status_of(exc)
    headers = {"Retry-After": str(exc.retry_after_seconds)} if isinstance(exc, RateLimited) else None
    return _html(status, headers, error=exc.message, **context)


def build_subscriptions_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/status/subscribe")
    def subscribe_form(request: Request) -> HTMLResponse:
        ctx = session.app_of(request).context
        return _html(services=subs.public_services(ctx), available=ctx.subscriptions is not None)

    @router.post("/status/subscribe")
    async def subscribe(request: Request) -> HTMLResponse:
        form = await request.form(max_files=0, max_fields=MAX_FIELDS)
        chosen = [v for v in form.getlist("services") if isinstance(v, str)][:MAX_FIELDS]
        values = {k: v for k, v in form.items() if isinstance(v, str) and k != "services"}
        return await run_in_threadpool(_subscribe, request, values, chosen)

    @router.get("/status/confirm")
    def confirm_form(request: Request, token: str = Token) -> HTMLResponse:
        return _link_page(request, "confirm", token, act=False)

    @router.post("/status/confirm")
    def confirm(request: Request, token: str = Token) -> HTMLResponse:
        return _link_page(request, "confirm", token, act=True)

    @router.get("/status/unsubscribe")
    def unsubscribe_form(request: Request, token: str = Token) -> HTMLResponse:
        return _link_page(request, "unsubscribe", token, act=False)

    @router.post("/status/unsubscribe")
    def unsubscribe(request: Request, token: str = Token) -> HTMLResponse:
        return _link_page(request, "unsubscribe", token, act=True)

    return router


def _subscribe(request: Request, values: dict[str, str], chosen: list[str]) -> HTMLResponse:
    ctx = session.app_of(request).context
    services = subs.public_services(ctx)
    context: dict[str, Any] = {"services": services, "available": True, "values": values, "chosen": chosen}
    client = request.client.host if request.client else "unknown"
    wait = _limiter(request).wait(client)
    if wait > 0:
        flood = RateLimited(
            "subscription", "too many subscribe requests from here; try again later", timedelta(seconds=wait)
        )
        return _refused(flood, **context)
    kind = values.get("kind", "email")
    try:
        if kind == "webhook":
            result = subs.subscribe_webhook(ctx, values.get("url", ""), chosen)
        elif kind == "email":
            result = subs.subscribe_email(ctx, values.get("email", ""), chosen)
        else:
            raise ValidationError("kind", "choose email or webhook")
    except DomainError as exc:
        return _refused(exc, **context)
    target = values.get("email", "").strip() if kind == "email" else values.get("url", "").strip()
    return _html(201, mode=f"subscribed-{kind}", result=result, target=target)


def _link_page(request: Request, purpose: str, token: str, *, act: bool) -> HTMLResponse:
    ctx = session.app_of(request).context
    try:
        if act:
            if purpose == "confirm":
                return _html(mode="confirmed", result=subs.confirm(ctx, token))
            return _html(mode="unsubscribed", result=subs.unsubscribe(ctx, token))
        # A forged, expired or stale link shows no button.
        return _html(mode=purpose, token=token, result=subs.check_link(ctx, purpose, token))
    except DomainError as exc:
        return _refused(exc, mode="link")
