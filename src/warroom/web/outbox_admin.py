"""The outbox for admins (``/admin/outbox``): pending, failing and dead deliveries by
channel, each with its attempts, next try and last error, and a Retry button.

Retry is a POST (with the session's CSRF token) that redirects back (post/redirect/get);
it makes a dead or failing delivery due now with fresh attempts and the same idempotency
key, as ``warroom outbox retry`` and ``POST /api/v1/outbox/retry`` do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from warroom.domain.shared.errors import DomainError
from warroom.services.comms import operations as comms
from warroom.services.comms.outbox import channel_states, outbox_counts
from warroom.services.identity import auth
from warroom.web import session
from warroom.web.forms import status_of
from warroom.web.session import CSRF_FIELD
from warroom.web.templating import SECURITY_HEADERS, render

PATH = "/admin/outbox"
SHOWN = 500  # deliveries per status on the page


def _html(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    values = {"user": None, "csrf": "", "error": None} | context
    return HTMLResponse(render(template, **values), status_code=status, headers=SECURITY_HEADERS)


def lanes(ctx: Any) -> list[dict[str, Any]]:
    """Channels with something not delivered: their failing, dead and waiting deliveries."""
    pending = comms.outbox_list(ctx, {"status": "pending", "limit": SHOWN})
    dead = comms.outbox_list(ctx, {"status": "dead", "limit": SHOWN})
    health = {c.name: c for c in channel_states(ctx, delivered=False)}
    by_channel: dict[str, dict[str, Any]] = {}
    for row in pending + dead:
        lane = by_channel.setdefault(
            row["channel"], {"channel": row["channel"], "failing": [], "dead": [], "pending": []}
        )
        if row["status"] == "dead":
            lane["dead"].append(row)
        elif row["attempts"] > 0 and row["last_error"]:
            lane["failing"].append(row)
        else:
            lane["pending"].append(row)
    found = []
    for name, lane in by_channel.items():
        state = health.get(name)
        lane["circuit_open"] = bool(state and state.circuit_open)
        lane["open_until"] = state.open_until if state else None
        found.append(lane)
    # The worst first: dead letters, then failing, then merely waiting.
    found.sort(key=lambda lane: (-len(lane["dead"]), -len(lane["failing"]), lane["channel"]))
    return found


def build_outbox_admin_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get(PATH)
    def outbox_page(request: Request) -> Response:
        return _page(request, retried=request.query_params.get("retried", "")[:10])

    @router.post(f"{PATH}/retry")
    async def outbox_retry(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=10)
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        return await run_in_threadpool(_retry, request, values)

    return router


def _who(request: Request) -> tuple[Any, Any, Response | None]:
    app = session.app_of(request)
    found = session.load(request)
    user = session.user_of(app, found)
    if user is None or found is None:
        return None, None, RedirectResponse(f"/login?next={quote(PATH, safe='')}", status_code=303)
    if not auth.allows(user.role, "admin"):
        message = f"The outbox page is for admins; your token is {user.role}."
        return user, found, _html("error.html", 403, user=user, message=message, status_code=403)
    return user, found, None


def _page(request: Request, *, retried: str = "", error: str | None = None, status: int = 200) -> Response:
    user, found, refused = _who(request)
    if refused is not None:
        return refused
    ctx = session.app_of(request).context
    counts = outbox_counts(ctx)
    return _html(
        "outbox.html",
        status,
        user=user,
        csrf=found.csrf,
        error=error,
        lanes=lanes(ctx),
        counts=counts,
        retried=retried if retried.isdecimal() else "",
    )


def _retry(request: Request, form: Mapping[str, str]) -> Response:
    user, found, refused = _who(request)
    if refused is not None:
        return refused
    if not session.csrf_ok(found, form.get(CSRF_FIELD)):
        return _html(
            "error.html", 403, user=user, message="This form expired: reload and try again.", status_code=403
        )
    ctx = session.app_of(request).context
    body: dict[str, Any] = {"all_dead": form.get("all_dead") == "1"}
    if form.get("id"):
        body["ids"] = [form["id"]]
    try:
        result = comms.outbox_retry(ctx, body)
    except DomainError as exc:
        return _page(request, error=exc.message, status=status_of(exc))
    return RedirectResponse(f"{PATH}?retried={len(result['retried'])}", status_code=303)
