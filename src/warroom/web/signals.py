"""The triage queue in the browser: firing alerts on no incident, grouped by service.

A responder declares an incident from a group, attaches it to an open incident, or
silences it until a time with a reason: the same use cases as ``warroom signals``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from warroom.domain.alerts.policy import policy_from_config
from warroom.domain.shared.errors import DomainError
from warroom.services.alerts import queue as alerts
from warroom.web import flash
from warroom.web.forms import status_of
from warroom.web.visits import Visit, _error, _form, _guard_write, _page, _to_login, _visit
from warroom.web.wording import web_message

ACTIONS = ("declare", "attach", "silence")


def _queue_page(
    request: Request, visit: Visit, *, error: str | None = None, status: int = 200, show_all: bool = False
) -> Response:
    groups = alerts.signal_groups(visit.app.context, include_silenced=show_all)
    return _page(request, visit, "signals.html", status=status, groups=groups, error=error, show_all=show_all)


def signals_page(request: Request) -> Response:
    visit = _visit(request)
    if visit.user is None:
        return _to_login(request)
    return _queue_page(request, visit, show_all=request.query_params.get("all") == "1")


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _act(request: Request, service: str, action: str, form: FormData) -> Response:
    visit, refusal = _guard_write(request, form, "/signals")
    if refusal is not None:
        return refusal
    assert visit.user is not None
    if action not in ACTIONS:
        return _error(request, visit, 404, f"there is no signals action {action!r}")
    ctx = visit.app.context
    actor = visit.user.name
    try:
        if action == "declare":
            policy = policy_from_config(visit.app.settings.section("alerts"))
            state = alerts.declare_from_signals(
                ctx,
                policy,
                service,
                actor,
                severity=_text(form, "severity") or None,
                why=_text(form, "why") or None,
            )
            return RedirectResponse(f"/incidents/{state.ref}", status_code=303)
        if action == "attach":
            labels = policy_from_config(visit.app.settings.section("alerts")).scope_labels
            state = alerts.attach_signals(ctx, service, _text(form, "incident"), actor, scope_labels=labels)
            return RedirectResponse(f"/incidents/{state.ref}", status_code=303)
        alerts.silence_signals(ctx, service, _text(form, "until"), _text(form, "reason"), actor)
    except DomainError as exc:
        message = f"{service}: {web_message(exc)}"
        back = flash.redirect(request, "/signals", message)
        return back or _queue_page(request, visit, error=message, status=status_of(exc))
    return RedirectResponse("/signals", status_code=303)


async def signals_act(request: Request, service: str, action: str) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_act, request, service, action, form)


ROUTES: tuple[tuple[str, Any, list[str]], ...] = (
    ("/signals", signals_page, ["GET"]),
    ("/signals/{service}/{action}", signals_act, ["POST"]),
)
