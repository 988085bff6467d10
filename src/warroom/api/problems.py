"""Errors as RFC 9457 ``application/problem+json`` documents that name the offending field.

One mapping for every route (``services.shared.problems``, which the CLI's ``--json`` errors
share): ``ValidationError`` and request validation errors to 422 (malformed JSON to 400),
``NotFound`` to 404, ``InvalidTransition`` and ``ConcurrencyConflict`` to 409.
Nothing about internals (paths, traces, SQL) leaks.
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

from warroom.domain.shared.errors import DomainError, RateLimited
from warroom.services.shared.problems import TITLES, domain_problem_body, problem_body

MEDIA_TYPE = "application/problem+json"


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
    body = problem_body(status, detail, kind=kind, field=field, **extra)
    content = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return Response(content, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def domain_problem(exc: DomainError) -> Response:
    body = domain_problem_body(exc)
    content = json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = {"Retry-After": str(exc.retry_after_seconds)} if isinstance(exc, RateLimited) else None
    return Response(content, status_code=body["status"], media_type=MEDIA_TYPE, headers=headers)


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
