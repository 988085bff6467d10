"""The X-ray page of an incident (``/incidents/{ref}/xray``): the verdict, the failing
path drawn as SVG, the call graph now vs the baseline, and a form that pins a finding as a
fact. The room links to it rather than drawing it inline, so reading traces never slows
the room or its live refresh; a trace source that is down shows one ``degraded`` line.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from warroom.domain.incidents.refs import parse_ref
from warroom.domain.shared.errors import DomainError, NotFound, ValidationError
from warroom.services import operations as ops
from warroom.web import flash
from warroom.web.visits import _error, _form, _guard_write, _page, _to_login, _visit
from warroom.web.xray_chart import failing_path


def _path(ref: str) -> str:
    return f"/incidents/INC-{parse_ref(ref)}/xray"


def xray_page(request: Request, ref: str) -> Response:
    visit = _visit(request)
    if visit.user is None:
        return _to_login(request)
    try:
        view = ops.xray(visit.app.context, ref)
    except DomainError as exc:
        status = 404 if isinstance(exc, NotFound | ValidationError) else 409
        return _error(request, visit, status, exc.message)
    return _page(request, visit, "xray.html", view=view, svg=Markup(failing_path(view)))


def _pin(request: Request, ref: str, form: FormData) -> Response:
    try:
        back = _path(ref)
    except ValidationError as exc:
        return _error(request, _visit(request), 404, exc.message)
    visit, refused = _guard_write(request, form, back)
    if refused is not None:
        return refused
    assert visit.user is not None
    finding = str(form.get("finding", ""))
    try:
        number = int(finding) if finding.isdecimal() and len(finding) < 4 else -1
        ops.xray_pin(visit.app.context, visit.user.name, ref, {"finding": number})
    except DomainError as exc:
        said = flash.redirect(request, f"{back}#pin", exc.message, failed="xray_pin")
        return said or _error(request, visit, 422, exc.message)
    return RedirectResponse(f"/incidents/INC-{parse_ref(ref)}#ledger", status_code=303)


async def pin(request: Request, ref: str) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_pin, request, ref, form)


def build_xray_web_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    router.add_api_route("/incidents/{ref}/xray", xray_page, methods=["GET"])
    router.add_api_route("/incidents/{ref}/xray/pin", pin, methods=["POST"])
    return router
