"""Web pages of on call: the one-tap acknowledgement link (no login: the signed token is
the proof), who is on call with each schedule's next two weeks drawn as SVG (``/oncall``),
and the iCalendar feeds of schedules and people (``/oncall/calendar/TOKEN.ics``, the signed
token in the URL being the credential a calendar app can carry).

The link's GET only shows the page and a button; the POST acknowledges. Mail scanners and
chat previews fetch links on their own, and must not acknowledge for the person.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from warroom.bootstrap import build_oncall
from warroom.domain.oncall.pages import ack_text
from warroom.domain.oncall.people import CONTACT_KINDS
from warroom.domain.oncall.schedules import final_shifts
from warroom.domain.shared.errors import DomainError, NotFound, ValidationError
from warroom.integrations.ack_links import SignedFeedLinks
from warroom.integrations.ical import shifts_calendar
from warroom.services.identity import auth
from warroom.services.oncall import operations as oops
from warroom.services.oncall import pages, schedules
from warroom.services.oncall.config import OncallConfig
from warroom.web import session
from warroom.web.forms import as_utc, fields
from warroom.web.oncall_chart import timeline_svg
from warroom.web.session import CSRF_FIELD
from warroom.web.templating import SECURITY_HEADERS, render

CHART_DAYS = 14

Token = Path(max_length=400)


def _config(request: Request) -> OncallConfig:
    app = session.app_of(request)
    found: OncallConfig | None = getattr(request.app.state, "warroom_oncall_web", None)
    if found is None:
        found = build_oncall(app)
        request.app.state.warroom_oncall_web = found
    return found


def _html(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    values = {"user": None, "csrf": "", "error": None} | context
    return HTMLResponse(render(template, **values), status_code=status, headers=SECURITY_HEADERS)


def _refused(exc: DomainError) -> HTMLResponse:
    status = 404 if isinstance(exc, NotFound) else 400 if isinstance(exc, ValidationError) else 409
    return _html("error.html", status, message=exc.message, status_code=status)


def build_oncall_web_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/ack/{token}")
    def ack_form(request: Request, token: str = Token) -> HTMLResponse:
        config = _config(request)
        try:
            if config.links is None:
                raise ValidationError("token", "acknowledgement links are off here (no secret_key)")
            page_id, person = config.links.verify(token)
            view = oops.page_show(session.app_of(request).context, str(page_id))
        except DomainError as exc:
            return _refused(exc)
        return _html("ack.html", page=view, person=person, token=token, done=None, commander=None)

    @router.post("/ack/{token}")
    def ack(request: Request, token: str = Token) -> HTMLResponse:
        ctx = session.app_of(request).context
        try:
            result = pages.acknowledge_by_link(ctx, _config(request), token)
        except DomainError as exc:
            return _refused(exc)
        page = result["page"]
        view = oops.page_show(ctx, page.ref)
        if result["changed"] and page.acked_at is not None:
            done = f"Acknowledged by {page.acked_by} after {ack_text(page.acked_at - page.triggered_at)}."
        else:
            done = f"Already acknowledged by {page.acked_by}."
        return _html(
            "ack.html", page=view, person=page.acked_by, token=token, done=done, commander=result["commander"]
        )

    @router.get("/oncall")
    def oncall_page(request: Request) -> Response:
        app = session.app_of(request)
        found = session.load(request)
        user = session.user_of(app, found)
        if user is None or found is None:
            return RedirectResponse(f"/login?next={quote('/oncall', safe='')}", status_code=303)
        return _oncall_page(app, user, found.csrf)

    @router.post("/oncall/{action}")
    async def oncall_form(request: Request, action: str = Path(max_length=20)) -> Response:
        form = await request.form(max_files=0, max_fields=20)
        return await run_in_threadpool(_oncall_form, request, action, fields(form, drop=()))

    @router.get("/oncall/calendar/{token}.ics")
    def calendar(request: Request, token: str = Token) -> Response:
        app = session.app_of(request)
        feeds = feed_links(app.settings.raw.get("secret_key"))
        try:
            if feeds is None:
                raise ValidationError("token", "calendar links are off here (no secret_key)")
            kind, name = feeds.verify(token)
            title, shifts = schedules.feed(app.context, kind, name)
        except DomainError as exc:
            return _refused(exc)
        body = shifts_calendar(title, shifts, app.context.clock.now())
        return Response(
            body, media_type="text/calendar; charset=utf-8", headers={"Cache-Control": "no-store"}
        )

    return router


def _oncall_page(
    app: Any,
    user: Any,
    csrf: str,
    *,
    error: str | None = None,
    status: int = 200,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    ctx = app.context
    now = ctx.clock.now()
    feeds = feed_links(app.settings.raw.get("secret_key"))
    charts = []
    with ctx.read() as uow:
        found = uow.oncall.schedules(now - timedelta(days=1))
    for item in found:
        shifts = final_shifts(item, now, now + timedelta(days=CHART_DAYS))
        svg = timeline_svg(
            shifts, now, now + timedelta(days=CHART_DAYS), item.zone, f"{item.name}, next {CHART_DAYS} days"
        )
        feed = f"/oncall/calendar/{feeds.sign('schedule', item.name)}.ics" if feeds else None
        charts.append({"name": item.name, "zone": item.time_zone, "svg": svg, "feed": feed})
    return _html(
        "oncall.html",
        status,
        user=user,
        csrf=csrf,
        error=error,
        now=oops.now(ctx, {}),
        charts=charts,
        days=CHART_DAYS,
        people=oops.people(ctx),
        schedules=[item.name for item in found],
        can_write=auth.allows(user.role, "responder"),
        can_admin=auth.allows(user.role, "admin"),
        values=values or {},
        kinds=CONTACT_KINDS,
    )


# What each form of /oncall does, and the role it needs.
_FORMS: dict[str, tuple[str, Any]] = {
    "person": ("admin", lambda ctx, actor, f: oops.person_put(ctx, _person_body(f))),
    "contact": ("admin", lambda ctx, actor, f: oops.contact_add(ctx, f.get("person", ""), f)),
    "override": (
        "responder",
        lambda ctx, actor, f: oops.override_add(
            ctx,
            actor,
            f.get("schedule", ""),
            f | {"start": as_utc(f.get("start", "")), "end": as_utc(f.get("end", ""))},
        ),
    ),
}


def _person_body(form: dict[str, str]) -> dict[str, Any]:
    teams = [t.strip() for t in form.get("teams", "").split(",") if t.strip()]
    return {
        "handle": form.get("handle"),
        "name": form.get("name") or form.get("handle"),
        "email": form.get("email") or None,
        "time_zone": form.get("time_zone") or "UTC",
        "teams": teams,
    }


def _oncall_form(request: Request, action: str, form: dict[str, str]) -> Response:
    app = session.app_of(request)
    found = session.load(request)
    user = session.user_of(app, found)
    if user is None or found is None:
        return RedirectResponse(f"/login?next={quote('/oncall', safe='')}", status_code=303)
    known = _FORMS.get(action)
    if known is None:
        return _html(
            "error.html", 404, user=user, message=f"there is no on-call form {action!r}", status_code=404
        )
    need, run = known
    if not session.csrf_ok(found, form.get(CSRF_FIELD)):
        return _html(
            "error.html", 403, user=user, message="This form expired: reload and try again.", status_code=403
        )
    if not auth.allows(user.role, need):
        message = f"Your token ({user.role}) may not do this; it needs {need}."
        return _html("error.html", 403, user=user, message=message, status_code=403)
    try:
        run(app.context, user.name, {k: v for k, v in form.items() if k != CSRF_FIELD})
    except DomainError as exc:
        status = 404 if isinstance(exc, NotFound) else 422
        return _oncall_page(app, user, found.csrf, error=exc.message, status=status, values=form)
    return RedirectResponse("/oncall#directory", status_code=303)


def feed_links(secret: object) -> SignedFeedLinks | None:
    return SignedFeedLinks(secret) if isinstance(secret, str) and secret else None
