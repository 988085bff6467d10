"""Errors as RFC 9457 ``application/problem+json`` documents that name the offending field.

One mapping for every route: ``ValidationError`` and request validation errors to 422
(malformed JSON to 400), ``NotFound`` to 404, ``InvalidTransition`` and
``ConcurrencyConflict`` to 409. Nothing about internals (paths, traces, SQL) leaks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match

from warroom.domain.shared.errors import (
    BrokenChain,
    ConcurrencyConflict,
    CorruptTimeline,
    DomainError,
    InvalidTransition,
    NotFound,
    RateLimited,
    ValidationError,
)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://warroom.dev/problems/"

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}

# The problem type slug of each domain error; RemoteBackend maps them back.
DOMAIN_TYPES: dict[type[DomainError], tuple[int, str]] = {
    BrokenChain: (409, "broken-chain"),
    RateLimited: (429, "rate-limited"),
    ValidationError: (422, "validation"),
    NotFound: (404, "not-found"),
    InvalidTransition: (409, "invalid-transition"),
    ConcurrencyConflict: (409, "concurrency-conflict"),
    CorruptTimeline: (500, "corrupt-timeline"),
}


def problem(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem+json response; ``kind`` is the slug of the ``type`` URI."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + (kind or str(status)),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if field is not None:
        body["field"] = field
    body.update(extra)
    content = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return Response(content, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def domain_problem(exc: DomainError) -> Response:
    for cls in type(exc).__mro__:
        if cls in DOMAIN_TYPES:
            status, kind = DOMAIN_TYPES[cls]
            break
    else:
        status, kind = 422, "domain"
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
        return problem(status, exc.message, kind=kind, field=exc.field, headers=headers)
    if isinstance(exc, ValidationError):
        return problem(status, exc.message, kind=kind, field=exc.field)
    return problem(status, exc.message, kind=kind)


def _field(loc: Sequence[Any]) -> str:
    """``("body", "services", 0)`` to ``services.0``; the body itself is ``body``."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie") and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts)


def validation_problem(exc: RequestValidationError) -> Response:
    errors = list(exc.errors())
    first = errors[0] if errors else {"loc": ("body",), "msg": "is invalid", "type": ""}
    if first.get("type") == "json_invalid":
        return problem(400, "the request body is not valid JSON", kind="malformed-json", field="body")
    if first.get("type") == "missing" and tuple(first.get("loc", ())) == ("body",):
        return problem(422, "a JSON object body is required", kind="validation", field="body")
    field = _field(first.get("loc", ("body",)))
    detail = f"{field}: {first.get('msg', 'is invalid')}"
    listed = [{"field": _field(e.get("loc", ())), "detail": str(e.get("msg", ""))} for e in errors[:20]]
    return problem(422, detail, kind="validation", field=field, errors=listed)


def http_problem(exc: HTTPException) -> Response:
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
    return problem(exc.status_code, detail, headers=dict(exc.headers or {}))


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> str:
    """Every method some route takes at this path. Starlette names only the first matching
    route's methods, so a path served by two routes (``/hooks/grafana``: POST and PUT) lost
    one; this asks every route, through the public ``matches``, for each method."""
    routes = request.app.router.routes
    return ", ".join(
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    )


def install_error_handlers(app: FastAPI) -> None:
    async def on_domain(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return domain_problem(exc)

    async def on_validation(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return validation_problem(exc)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            exc.headers = {**(exc.headers or {}), "Allow": allowed_methods(request)}
        return http_problem(exc)

    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
