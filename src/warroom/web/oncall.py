"""Web pages of on call: the one-tap acknowledgement link (no login: the signed token is
the proof), and who is on call with each schedule's next two weeks drawn as SVG.

The link's GET only shows the page and a button; the POST acknowledges. Mail scanners and
chat previews fetch links on their own, and must not acknowledge for the person.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from warroom.bootstrap import build_oncall
from warroom.domain.oncall.pages import ack_text
from warroom.domain.shared.errors import DomainError, NotFound, ValidationError
from warroom.services.oncall import operations as oops
from warroom.services.oncall import pages
from warroom.services.oncall.config import OncallConfig
from warroom.web import session
from warroom.web.templating import SECURITY_HEADERS, render

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

    return router
