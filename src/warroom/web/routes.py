"""The web room's routes: incident list, the room, live updates, the status page, login.

Server-rendered HTML; every page but ``/status`` and ``/login`` needs a logged-in token
(anonymous visitors are sent to ``/login``). Every form post carries the session's CSRF
token, runs one ``services.operations`` call with the token's name as actor, and
redirects back (post/redirect/get). A refusal from the domain re-renders the page with
its message and a 4xx status. Blocking work (the database) runs in the threadpool.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from warroom.bootstrap import App
from warroom.domain.incidents.mitigation import MitigationKind, Outcome, Risk
from warroom.domain.incidents.refs import parse_ref
from warroom.domain.incidents.severity import DataIntegrity, IncidentKind, SecurityImpact, Severity
from warroom.domain.incidents.state import MILESTONES, Role, Status
from warroom.domain.shared.errors import DomainError, NotFound, ValidationError
from warroom.domain.shared.timefmt import from_iso, human_duration
from warroom.services import operations as ops
from warroom.services.identity import accounts, auth
from warroom.services.incidents import commands as cases
from warroom.web import flash, live, session
from warroom.web.accounts import ROUTES as ACCOUNT_ROUTES
from warroom.web.first_screen import first_screen, with_derived_start
from warroom.web.forms import ACTIONS, action_body, declaration, fields, return_path, status_of
from warroom.web.impact_chart import impact_panel
from warroom.web.oidc import ROUTES as OIDC_ROUTES
from warroom.web.oidc import label as oidc_label
from warroom.web.postmortem import postmortem_in_place
from warroom.web.public import ROUTES as PUBLIC_ROUTES
from warroom.web.public_admin import ROUTES as STATUS_ADMIN_ROUTES
from warroom.web.room_forms import failure_anchor
from warroom.web.room_view import RoomCache, room_page
from warroom.web.session import CSRF_FIELD, User
from warroom.web.signals import ROUTES as SIGNAL_ROUTES
from warroom.web.static_files import static
from warroom.web.svg import milestone_strip
from warroom.web.visits import Visit, _error, _form, _guard_write, _page, _safe_next, _to_login, _visit
from warroom.web.wording import web_message

TIMELINE_PAGE = 100
OPEN_STATUSES = tuple(s.value for s in Status if s.is_open)
NO_FILTERS = {"status": "", "severity": "", "service": ""}
_cache_lock = threading.Lock()


def _incident_path(ref: str) -> str:
    return f"/incidents/INC-{parse_ref(ref)}"


# ---------------------------------------------------------------- incident list & declare


def _list_page(
    request: Request,
    visit: Visit,
    filters: dict[str, str],
    *,
    error: str | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    ctx = visit.app.context
    try:
        rows = ops.list_incidents(ctx, {key: value for key, value in filters.items() if value})
    except DomainError as exc:
        rows, error, status = [], error or exc.message, status if error else status_of(exc)
    return _page(
        request,
        visit,
        "list.html",
        status=status,
        incidents=rows,
        now=ctx.clock.now(),
        filters=filters,
        statuses=[s.value for s in Status],
        severities=[s.name for s in Severity],
        catalog=sorted(s.name for s in ctx.catalog.services),
        kinds=[k.value for k in IncidentKind],
        data_levels=[d.value for d in DataIntegrity],
        security_levels=[s.value for s in SecurityImpact],
        error=error,
        values={"declare": values or {}},
    )


def incident_list(request: Request) -> Response:
    visit = _visit(request)
    if visit.user is None:
        return _to_login(request)
    filters = {key: request.query_params.get(key, "").strip() for key in NO_FILTERS}
    return _list_page(request, visit, filters)


def _declare(request: Request, form: FormData) -> Response:
    visit, refusal = _guard_write(request, form, "/")
    if refusal is not None:
        return refusal
    assert visit.user is not None
    body = declaration(fields(form))
    try:
        view = ops.declare(visit.app.context, visit.user.name, body)
    except DomainError as exc:
        message = web_message(exc)
        return flash.redirect(
            request, "/#declare-h", message, failed="declare", values={"declare": body}
        ) or _list_page(request, visit, dict(NO_FILTERS), error=message, values=body, status=status_of(exc))
    return RedirectResponse(f"/incidents/{view['id']}", status_code=303)


async def declare(request: Request) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_declare, request, form)


# ---------------------------------------------------------------- the room


def _countdown(due: datetime, now: datetime) -> str:
    return f"overdue by {human_duration(now - due)}" if now > due else f"in {human_duration(due - now)}"


def _room_cache(request: Request) -> RoomCache:
    """One cache per ASGI app (and so per App): the states of one database only."""
    state = request.app.state
    with _cache_lock:
        cache = getattr(state, "warroom_room_cache", None)
        if cache is None:
            cache = RoomCache()
            state.warroom_room_cache = cache
    return cast(RoomCache, cache)


def _room_context(request: Request, app: App, ref: str, before: int | None, user: User) -> dict[str, Any]:
    ctx = app.context
    incident, events, draft = room_page(
        ctx, ref, before=before, limit=TIMELINE_PAGE, with_draft=user.can_write, cache=_room_cache(request)
    )
    now = ctx.clock.now()
    is_open = incident["status"] in OPEN_STATUSES
    first = first_screen(incident, events, now, newest_page=before is None)
    # unknown to the timeline, an alert's startsAt (declared from alerts, or attached since)
    incident = with_derived_start(incident, first["impact_start"])
    milestones = {name: from_iso(m["at"]) for name, m in incident["milestones"].items() if name in MILESTONES}
    due = incident["next_update_due"]
    query = urlencode({"before": before}) if before is not None else ""
    oldest = events[-1]["seq"] if events else 0
    return {
        "incident": incident,
        "events": events,
        "older": f"?before={oldest}" if oldest > 1 else None,
        "newer": before is not None,
        "query": query,
        "strip": Markup(milestone_strip(milestones, now=now if is_open else None)),
        "now": now,
        "is_open": is_open,
        # closed, or a timeline that no longer verifies: nothing can be recorded, so no forms
        "writable": incident["status"] != "closed" and bool(incident["chain"]["intact"]),
        "countdown": _countdown(from_iso(due), now) if due else None,
        "last_update": incident["updates"][-1] if incident["updates"] else None,
        "draft": draft,
        "roles": [role.value for role in Role],
        "people": ops.people(ctx),
        "mitigation_kinds": [kind.value for kind in MitigationKind],
        "risks": [risk.value for risk in Risk],
        "outcomes": [outcome.value for outcome in Outcome],
        "severities": [s.name for s in Severity],
        "data_levels": [d.value for d in DataIntegrity],
        "security_levels": [s.value for s in SecurityImpact],
        "events_path": f"/incidents/{incident['id']}/events",
        "impact": impact_panel(incident),
        "first": first,
    }


def _before(request: Request) -> int | None:
    text = request.query_params.get("before", "")
    return int(text) if text.isdecimal() and len(text) < 12 else None


def _room_error(request: Request, visit: Visit, exc: DomainError) -> HTMLResponse:
    if isinstance(exc, ValidationError) and exc.field == "incident":
        return _error(request, visit, 404, exc.message)
    return _error(request, visit, status_of(exc), exc.message)


def room(request: Request, ref: str) -> Response:
    visit = _visit(request)
    if visit.user is None:
        return _to_login(request)
    try:
        context = _room_context(request, visit.app, ref, _before(request), visit.user)
    except DomainError as exc:
        return _room_error(request, visit, exc)
    return _page(request, visit, "room.html", **context)


def room_fragment(request: Request, ref: str) -> Response:
    """The live sections of the room, swapped in by room.js when the incident changes."""
    visit = _visit(request)
    if visit.user is None:
        return Response(status_code=401)
    try:
        context = _room_context(request, visit.app, ref, _before(request), visit.user)
    except DomainError as exc:
        return _room_error(request, visit, exc)
    response = _page(request, visit, "room_live.html", **context)
    response.headers["X-Warroom-Version"] = str(context["incident"]["version"])
    return response


def _act(request: Request, ref: str, action: str, form: FormData) -> Response:
    found = ACTIONS.get(action)
    try:
        path = _incident_path(ref)
    except ValidationError as exc:
        return _error(request, _visit(request), 404, exc.message)
    if found is None:
        return _error(request, _visit(request), 404, f"there is no action {action!r} on an incident")
    visit, refusal = _guard_write(request, form, path)
    if refusal is not None:
        return refusal
    assert visit.user is not None
    body = action_body(found, fields(form))
    elsewhere = return_path(found, form)  # posted from another page (the follow-ups list)
    try:
        result = found.operation(visit.app.context, visit.user.name, ref, body)
    except DomainError as exc:
        if isinstance(exc, NotFound) and cases.incident_version(visit.app.context, ref) is None:
            return _error(request, visit, 404, exc.message)  # no page to go back to
        message = web_message(exc)
        back = flash.redirect(
            request,
            elsewhere
            or f"{path}{found.page}#{found.anchor_of(body) if found.anchor_of else failure_anchor(action)}",
            message,
            failed=action,
            values={action: body},
        )
        if back is not None:
            return back
        if found.page == "/postmortem":  # too long for the flash cookie: the editor, in place
            return postmortem_in_place(request, ref, message, failed=action, values={action: body})
        try:
            context = _room_context(request, visit.app, ref, None, visit.user)
        except DomainError as again:
            return _room_error(request, visit, again)
        return _page(
            request,
            visit,
            "room.html",
            status=status_of(exc),
            error=message,
            failed=action,
            values={action: body},
            **context,
        )
    if isinstance(result, dict) and result.get("recorded") is False and result.get("summary"):
        # the impact probe answered without measuring (not configured, no data): say why
        said = flash.redirect(
            request, f"{path}#{failure_anchor(action)}", str(result["summary"]), failed=action
        )
        if said is not None:
            return said
    if elsewhere is not None:
        return RedirectResponse(elsewhere, status_code=303)
    anchor = found.anchor_of(body) if found.anchor_of else found.anchor
    return RedirectResponse(f"{path}{found.page}#{anchor}", status_code=303)


async def act(request: Request, ref: str, action: str) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_act, request, ref, action, form)


async def room_events(request: Request, ref: str) -> Response:
    """Server-sent events: ``changed`` whenever the incident's version moves."""
    visit = await run_in_threadpool(_visit, request)
    if visit.user is None:
        return Response(status_code=401)  # EventSource gives up on a non-200 answer
    try:
        number = parse_ref(ref)
    except ValidationError:
        return Response(status_code=404)
    ctx = visit.app.context

    async def version_of() -> int | None:
        return await run_in_threadpool(cases.incident_version, ctx, number)

    since = live.parse_version(request.headers.get("last-event-id"), request.query_params.get("since"))
    signal: live.LiveSignal | None = getattr(request.app.state, "live", None)
    if signal is None:
        stream = live.changes(version_of, request.is_disconnected, since=since)
    else:
        sub = signal.subscribe(number)
        stream = live.subscribed(
            live.changes(version_of, request.is_disconnected, since=since, wait=sub.wait), sub
        )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


# ---------------------------------------------------------------- login / logout


def login_form(request: Request) -> Response:
    visit = _visit(request)
    target = _safe_next(request.query_params.get("next"))
    return _page(request, visit, "login.html", next=target, oidc=oidc_label(visit.app.settings.raw))


def _login(request: Request, form: FormData) -> Response:
    visit = _visit(request)
    target = _safe_next(str(form.get("next") or "/"))
    again = "/login?" + urlencode({"next": target})
    if visit.fresh or not session.csrf_ok(visit.session, form.get(CSRF_FIELD)):
        message = "The login form expired (or cookies are off): try again."
        return flash.redirect(request, again, message) or _page(
            request, visit, "login.html", status=403, next=target, error=message
        )
    plain = str(form.get("token") or "").strip()
    info = auth.authenticate(visit.app.context, plain)
    if info is None:
        message = "Unknown or revoked token."
        return flash.redirect(request, again, message) or _page(
            request, visit, "login.html", status=401, next=target, error=message
        )
    if info.role not in auth.RANKED:
        message = f"A {info.role} token may only post webhooks; log in with a viewer or responder token."
        return flash.redirect(request, again, message) or _page(
            request, visit, "login.html", status=403, next=target, error=message
        )
    response = RedirectResponse(target, status_code=303)
    session.store(request, response, session.new_session(info.id))
    return response


async def login(request: Request) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_login, request, form)


async def logout(request: Request) -> Response:
    form = await _form(request)
    found = session.load(request)
    if not session.csrf_ok(found, form.get(CSRF_FIELD)):
        message = "This form expired: reload the page and try again."
        back = flash.redirect(request, "/", message)
        if back is not None:
            return back
        page: Response = await run_in_threadpool(_error, request, None, 403, message)
        return page
    if found is not None and found.sid is not None:  # an account's session ends on the server too
        await run_in_threadpool(accounts.end_session, session.app_of(request).context, found.sid)
    response = RedirectResponse("/login", status_code=303)
    session.forget(response)
    return response


# ---------------------------------------------------------------- static files


def build_router() -> APIRouter:
    """The web room's routes; ``server.create_app`` includes them next to the REST API."""
    router = APIRouter(include_in_schema=False)
    router.add_api_route("/", incident_list, methods=["GET"])
    router.add_api_route("/incidents", declare, methods=["POST"])
    router.add_api_route("/incidents/{ref}", room, methods=["GET"])
    router.add_api_route("/incidents/{ref}/fragment", room_fragment, methods=["GET"])
    router.add_api_route("/incidents/{ref}/events", room_events, methods=["GET"])
    router.add_api_route("/incidents/{ref}/{action}", act, methods=["POST"])
    router.add_api_route("/login", login_form, methods=["GET"])
    router.add_api_route("/login", login, methods=["POST"])
    router.add_api_route("/logout", logout, methods=["POST"])
    router.add_api_route("/static/{name}", static, methods=["GET"])
    for path, endpoint, methods in [
        *ACCOUNT_ROUTES,
        *OIDC_ROUTES,
        *PUBLIC_ROUTES,
        *STATUS_ADMIN_ROUTES,
        *SIGNAL_ROUTES,
    ]:
        router.add_api_route(path, endpoint, methods=methods)
    return router
