"""Post/redirect/get for refused forms: the refusal travels to the next page in a cookie.

A form post that the domain refuses answers ``303`` to the page it came from, never a page
on the POST URL (a reload would post again). The message, the form that failed and what
was typed ride along in a short-lived signed cookie (``warroom_flash``), bound to the path
they are for; the page at that path shows them once and clears the cookie.

Signed, not encrypted, with the session's secret: only the person's own typing is in it.
When what was typed does not fit a cookie, :func:`redirect` returns None and the caller
renders the page in place instead (losing a long status update would be worse than a
page on the POST URL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer

from warroom.web import session

COOKIE = "warroom_flash"
SALT = "warroom.web.flash"
MAX_AGE = 300
MAX_COOKIE = 3800  # bytes: browsers keep at least 4096 per cookie, name and attributes included


@dataclass(frozen=True)
class Flash:
    path: str
    error: str
    failed: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(session.secret_key(request), salt=SALT)


def redirect(
    request: Request,
    target: str,
    error: str,
    *,
    failed: str | None = None,
    values: dict[str, Any] | None = None,
) -> RedirectResponse | None:
    """A 303 to ``target`` (a local path, ``#anchor`` allowed) that shows ``error`` there;
    None when ``values`` are too big for a cookie."""
    path = target.split("#", 1)[0].split("?", 1)[0]
    data = {"path": path, "error": error, "failed": failed, "values": values or {}}
    value = _serializer(request).dumps(data)
    if len(value) > MAX_COOKIE:
        return None
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def take(request: Request) -> Flash | None:
    """The flash meant for this request's path, if any (the caller clears it with :func:`clear`)."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data: Any = _serializer(request).loads(raw, max_age=MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("path") != request.url.path:
        return None
    error, failed, values = data.get("error"), data.get("failed"), data.get("values")
    if not isinstance(error, str) or not isinstance(values, dict):
        return None
    return Flash(request.url.path, error, failed if isinstance(failed, str) else None, values)


def clear(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")
