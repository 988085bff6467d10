"""Web pages of local accounts: sign in with a handle and password (then a TOTP code when
the account has one), choose a password through the one-time setup link, and enrol a
second factor on ``/account``.

Each page translates to one ``services.identity.accounts`` call; a refusal re-renders the
page with its message and the status that fits (401 wrong, 423 locked, 429 too many),
storing nothing but the refusal the rate limits count.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from warroom.domain.shared.errors import DomainError, NotFound, ValidationError
from warroom.services.identity import accounts, device
from warroom.web import session
from warroom.web.oidc import label as oidc_label
from warroom.web.session import CSRF_FIELD
from warroom.web.visits import Visit, _error, _form, _page, _safe_next, _to_login, _visit
from warroom.web.wording import web_message

CODE_PATH = "/login/code"


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _signed_in(request: Request, secret: str, target: str) -> Response:
    """A new session (a new CSRF token too, so one planted before sign-in is worthless)."""
    response = RedirectResponse(target, status_code=303)
    session.store(request, response, session.new_session(sid=secret))
    return response


def _login_page(
    request: Request, visit: Visit, target: str, status: int, error: str, handle: str = ""
) -> Response:
    shown = oidc_label(visit.app.settings.raw)
    return _page(
        request, visit, "login.html", status=status, next=target, error=error, handle=handle, oidc=shown
    )


def _password(request: Request, form: FormData) -> Response:
    visit = _visit(request)
    target = _safe_next(_text(form, "next") or "/")
    if visit.fresh or not session.csrf_ok(visit.session, form.get(CSRF_FIELD)):
        return _login_page(
            request, visit, target, 403, "The sign-in form expired (or cookies are off): try again."
        )
    handle = _text(form, "handle")
    try:
        signed = accounts.sign_in(visit.app.context, handle, _text(form, "password"), _address(request))
    except accounts.SignInRefused as exc:
        shown = handle.strip()[:64] if handle.strip().isprintable() else ""
        return _login_page(request, visit, target, exc.status, exc.message, shown)
    if signed.session is not None:
        return _signed_in(request, signed.session, target)
    response = RedirectResponse(f"{CODE_PATH}?{urlencode({'next': target})}", status_code=303)
    session.store(request, response, session.awaiting_code(signed.handle, time.time()))
    return response


async def password(request: Request) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_password, request, form)


def _awaiting(visit: Visit) -> str | None:
    """The handle whose TOTP code this session may still give."""
    found = visit.session
    if found.mfa is None or time.time() - found.mfa_at > session.MFA_SECONDS:
        return None
    return found.mfa


def code_form(request: Request) -> Response:
    visit = _visit(request)
    target = _safe_next(request.query_params.get("next"))
    if _awaiting(visit) is None:
        return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
    return _page(request, visit, "login_code.html", next=target)


def _code(request: Request, form: FormData) -> Response:
    visit = _visit(request)
    target = _safe_next(_text(form, "next") or "/")
    handle = _awaiting(visit)
    if handle is None or not session.csrf_ok(visit.session, form.get(CSRF_FIELD)):
        message = "The sign-in took too long or the form expired: sign in again."
        return _login_page(request, visit, target, 403, message)
    try:
        secret = accounts.second_factor(visit.app.context, handle, _text(form, "code"), _address(request))
    except accounts.SignInRefused as exc:
        if exc.status == 423:
            return _login_page(request, visit, target, exc.status, exc.message)
        return _page(request, visit, "login_code.html", status=exc.status, next=target, error=exc.message)
    return _signed_in(request, secret, target)


async def code(request: Request) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_code, request, form)


def setup_form(request: Request, secret: str) -> Response:
    visit = _visit(request)
    try:
        account = accounts.setup_account(visit.app.context, secret)
    except NotFound as exc:
        return _error(request, visit, 404, exc.message)
    return _page(
        request, visit, "setup.html", handle=account.handle, secret=secret, minimum=accounts.MIN_PASSWORD
    )


def _setup(request: Request, secret: str, form: FormData) -> Response:
    visit = _visit(request)
    if not session.csrf_ok(visit.session, form.get(CSRF_FIELD)):
        return _error(request, visit, 403, "This form expired or did not come from this page: reload it.")
    try:
        account = accounts.set_password(
            visit.app.context, secret, _text(form, "password"), _text(form, "again")
        )
    except NotFound as exc:
        return _error(request, visit, 404, exc.message)
    except ValidationError as exc:
        shown = accounts.setup_account(visit.app.context, secret)
        return _page(
            request,
            visit,
            "setup.html",
            status=422,
            handle=shown.handle,
            secret=secret,
            minimum=accounts.MIN_PASSWORD,
            error=web_message(exc),
        )
    return _page(
        request, visit, "login.html", next="/", notice="Your password is set: sign in.", handle=account.handle
    )


async def setup(request: Request, secret: str) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_setup, request, secret, form)


def _account_page(request: Request, visit: Visit, status: int = 200, **extra: Any) -> Response:
    assert visit.user is not None
    with visit.app.context.read() as uow:
        account = uow.accounts.get(visit.user.name) if visit.user.session_id is not None else None
    return _page(request, visit, "account.html", status=status, account=account, **extra)


def account_page(request: Request) -> Response:
    visit = _visit(request)
    if visit.user is None:
        return _to_login(request)
    return _account_page(request, visit)


def _totp(request: Request, form: FormData, step: str) -> Response:
    visit = _visit(request)
    if visit.user is None:
        return _to_login(request, "/account")
    if not session.csrf_ok(visit.session, form.get(CSRF_FIELD)):
        return _error(request, visit, 403, "This form expired or did not come from this page: reload it.")
    if visit.user.session_id is None:
        return _account_page(
            request, visit, 409, error="A session made from a token has no account to protect."
        )
    ctx = visit.app.context
    try:
        if step == "begin":
            secret, uri = accounts.begin_totp(ctx, visit.user.name)
            return _account_page(request, visit, enrol={"secret": secret, "uri": uri, "qr": _qr(uri)})
        accounts.confirm_totp(ctx, visit.user.name, _text(form, "code"))
    except DomainError as exc:
        return _account_page(request, visit, 422, error=web_message(exc))
    return _account_page(request, visit, notice="Second factor on: sign-ins now ask for a code.")


def _qr(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code (segno)."""
    import segno

    svg: str = segno.make(uri, error="m").svg_inline(scale=4, dark="#111", light="#fff")
    return svg


async def totp_begin(request: Request) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_totp, request, form, "begin")


async def totp_confirm(request: Request) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_totp, request, form, "confirm")


def device_form(request: Request) -> Response:
    visit = _visit(request)
    if visit.user is None:
        return _to_login(request)
    return _page(request, visit, "device.html", code=request.query_params.get("code", "")[:16])


def _device(request: Request, form: FormData) -> Response:
    visit = _visit(request)
    if visit.user is None:
        return _to_login(request, "/device")
    if not session.csrf_ok(visit.session, form.get(CSRF_FIELD)):
        return _error(request, visit, 403, "This form expired or did not come from this page: reload it.")
    if visit.user.session_id is None:
        message = "Sign in as yourself (handle and password) to approve: a pasted token is not a person."
        return _page(request, visit, "device.html", status=403, code="", error=message)
    try:
        device.approve(visit.app.context, _text(form, "code"), visit.user.name)
    except DomainError as exc:
        return _page(request, visit, "device.html", status=422, code="", error=web_message(exc))
    return _page(request, visit, "device.html", code="", done=True)


async def device_approve(request: Request) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_device, request, form)


ROUTES = (
    ("/login/password", password, ["POST"]),
    (CODE_PATH, code_form, ["GET"]),
    (CODE_PATH, code, ["POST"]),
    ("/setup/{secret}", setup_form, ["GET"]),
    ("/setup/{secret}", setup, ["POST"]),
    ("/account", account_page, ["GET"]),
    ("/account/totp", totp_begin, ["POST"]),
    ("/account/totp/confirm", totp_confirm, ["POST"]),
    ("/device", device_form, ["GET"]),
    ("/device", device_approve, ["POST"]),
)
