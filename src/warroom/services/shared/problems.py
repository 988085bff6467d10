"""The body of an RFC 9457 problem document, shared by the API and the CLI's ``--json``.

The API answers ``application/problem+json`` with these fields; the CLI, asked for JSON,
prints the same document on stderr for a refusal, so a script reads one shape from both.
Only the standard library: the CLI's error path must not load the web framework.
"""

from __future__ import annotations

from typing import Any

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

# The status and problem type slug of each domain error; RemoteBackend maps them back.
DOMAIN_TYPES: dict[type[DomainError], tuple[int, str]] = {
    BrokenChain: (409, "broken-chain"),
    RateLimited: (429, "rate-limited"),
    ValidationError: (422, "validation"),
    NotFound: (404, "not-found"),
    InvalidTransition: (409, "invalid-transition"),
    ConcurrencyConflict: (409, "concurrency-conflict"),
    CorruptTimeline: (500, "corrupt-timeline"),
}


def problem_body(
    status: int, detail: str, *, kind: str | None = None, field: str | None = None, **extra: Any
) -> dict[str, Any]:
    """``type``, ``title``, ``status``, ``detail``, ``field`` when there is one, then ``extra``;
    ``kind`` is the slug of the ``type`` URI (the status when left out)."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + (kind or str(status)),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if field is not None:
        body["field"] = field
    body.update(extra)
    return body


def domain_problem_body(exc: DomainError) -> dict[str, Any]:
    """The problem for a refusal of the domain: the same document wherever it is answered."""
    for cls in type(exc).__mro__:
        if cls in DOMAIN_TYPES:
            status, kind = DOMAIN_TYPES[cls]
            break
    else:
        status, kind = 422, "domain"
    if isinstance(exc, ValidationError):
        return problem_body(status, exc.message, kind=kind, field=exc.field)
    return problem_body(status, exc.message, kind=kind)
