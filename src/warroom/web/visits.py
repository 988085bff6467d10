"""One browser request to the web room, and the page plumbing every route module shares.

:class:`Visit` is the request's application, session and logged-in user; :func:`_page`
renders a template with the visit's user and CSRF token (and sets the cookie of a new
session); :func:`_error` renders the error page; :func:`_to_login` sends an anonymous
visitor to ``/login`` and back; :func:`_guard_write` lets a form post through only with
a logged-in user, the session's CSRF token and a token that may write; :func:`_form`
reads a posted form within the field limit. ``routes`` and ``signals`` both build on
these, and neither imports the other's helpers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from warroom.bootstrap import App
from warroom.web import flash, session
from warroom.web.session import CSRF_FIELD, Session, User
from warroom.web.templating import SECURITY_HEADERS, render

MAX_FORM_FIELDS = 64


@dataclass(frozen=True)
class Visit:
    app: App
    session: Session
    user: User | None
    fresh: bool  # the session is new and its cookie must be set


def _visit(request: Request) -> Visit:
    app = session.app_of(request)
    found = session.load(request)
    current = found or session.new_session()
    return Visit(app, current, session.user_of(app, found), fresh=found is None)


def _page(
    request: Request, visit: Visit | None, template: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    values: dict[str, Any] = {
        "user": visit.user if visit else None,
        "csrf": visit.session.csrf if visit else "",
        "error": None,
        "values": {},
        "failed": None,
    }
    values.update(context)
    shown = flash.take(request) if request.method == "GET" else None
    if shown is not None:  # a refused form, redirected here (post/redirect/get)
        values.update(error=shown.error, failed=shown.failed, values=shown.values)
    response = HTMLResponse(render(template, **values), status_code=status, headers=SECURITY_HEADERS)
    if shown is not None:
        flash.clear(response)
    if visit is not None and visit.fresh:
        session.store(request, response, visit.session)
    return response


def _error(request: Request, visit: Visit | None, status: int, message: str) -> HTMLResponse:
    return _page(request, visit, "error.html", status=status, message=message, status_code=status)


def _safe_next(value: str | None) -> str:
    """Only a local path. Browsers read ``//host`` and ``/\\host`` as another site, and drop
    tabs and newlines first (``/\t/host`` is ``//host``), so those are refused outright."""
    if (
        not value
        or not value.startswith("/")
        or "\\" in value
        or any(ord(c) < 32 or ord(c) == 127 for c in value)
    ):
        return "/"
    if value.startswith("//"):
        return "/"
    return value


def _to_login(request: Request, back: str | None = None) -> RedirectResponse:
    target = back or request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _guard_write(request: Request, form: FormData, back: str) -> tuple[Visit, Response | None]:
    """Refusals before any work go back to ``back`` with the message (nothing typed is kept:
    a post that fails the CSRF check may come from another site)."""
    visit = _visit(request)
    if visit.user is None:
        return visit, _to_login(request, back)
    if not session.csrf_ok(visit.session, form.get(CSRF_FIELD)):
        message = "This form expired or did not come from this page: try again."
        return visit, flash.redirect(request, back, message) or _error(request, visit, 403, message)
    if not visit.user.can_write:
        message = f"Your token ({visit.user.role}) may read incidents but not change them."
        return visit, flash.redirect(request, back, message) or _error(request, visit, 403, message)
    return visit, None


async def _form(request: Request) -> FormData:
    return await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
