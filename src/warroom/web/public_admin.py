"""The status page's admin form (``/status/admin``): component states set by hand and
scheduled maintenance, for logged-in responders; the same use cases as ``warroom status``."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from warroom.domain.comms.statuspage import COMPONENT_STATES, LABELS
from warroom.domain.shared.errors import DomainError, NotFound
from warroom.services.comms import statuspage_ops as status
from warroom.web import flash
from warroom.web.forms import status_of
from warroom.web.visits import Visit, _form, _guard_write, _page, _to_login, _visit
from warroom.web.wording import web_message

BACK = "/status/admin"
ACTIONS = ("component", "maintenance", "cancel")


def _admin_page(
    request: Request, visit: Visit, *, error: str | None = None, status_code: int = 200
) -> Response:
    ctx = visit.app.context
    return _page(
        request,
        visit,
        "status_admin.html",
        status=status_code,
        error=error,
        components=status.components_view(ctx),
        windows=status.maintenance_list(ctx, {"all": True}),
        states=COMPONENT_STATES,
        labels=LABELS,
    )


def admin_page(request: Request) -> Response:
    visit = _visit(request)
    if visit.user is None:
        return _to_login(request)
    return _admin_page(request, visit)


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _act(request: Request, action: str, form: FormData) -> Response:
    visit, refusal = _guard_write(request, form, BACK)
    if refusal is not None:
        return refusal
    assert visit.user is not None
    ctx, actor = visit.app.context, visit.user.name
    try:
        if action == "component":
            body = {"state": _text(form, "state"), "reason": _text(form, "reason")}
            status.set_component(ctx, actor, _text(form, "service"), body)
        elif action == "maintenance":
            fields = ("services", "starts_at", "ends_at", "text")
            status.schedule(ctx, actor, None, {name: _text(form, name) for name in fields})
        elif action == "cancel":
            status.cancel(ctx, actor, _text(form, "window"), {})
        else:
            raise NotFound(f"there is no status page action {action!r}")
    except DomainError as exc:
        message = web_message(exc)
        back = flash.redirect(request, BACK, message)
        return back or _admin_page(request, visit, error=message, status_code=status_of(exc))
    return RedirectResponse(BACK, status_code=303)


async def admin_act(request: Request, action: str) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_act, request, action, form)


ROUTES: tuple[tuple[str, Any, list[str]], ...] = (
    ("/status/admin", admin_page, ["GET"]),
    ("/status/admin/{action}", admin_act, ["POST"]),
)
