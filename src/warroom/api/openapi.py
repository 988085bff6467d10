"""The OpenAPI document says what the routes really answer.

FastAPI documents a route's success and its request-validation 422 (as plain JSON). Every
error warroom answers is ``application/problem+json`` (``api.problems``) and comes from a
few places the route declarations do not see: the token check (401, 403), the incident or
token named in the path (404), the domain's refusals (409), the request guard (413) and a
database that is busy or away (503). This adds them to each operation by what it is, so a
client generated from the document, and schemathesis's conformance checks, see the truth.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from warroom.api.problems import MEDIA_TYPE

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details; `field` names the offending input when there is one.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "field": {"type": "string"},
    },
    "additionalProperties": True,
}
_REF = {"$ref": "#/components/schemas/Problem"}

_WHY = {
    400: "The body is not the JSON (or the format) this route reads.",
    401: "No token, or one that is unknown, expired or revoked.",
    403: "The token's role may not do this.",
    404: "What the path names does not exist.",
    409: "The incident's state does not allow this now, or someone else changed it first.",
    413: "The request body is over the size limit.",
    415: "The body's content type is not one this route reads.",
    422: "Input that can never be right; `field` names it.",
    503: "The database is busy or unreachable; retry.",
}


def _problem(status: int) -> dict[str, Any]:
    return {"description": _WHY[status], "content": {MEDIA_TYPE: {"schema": _REF}}}


def _statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    found = {503}
    if operation.get("security"):
        found |= {401, 403}
    if "{" in path:
        found.add(404)
    if "requestBody" in operation or method in ("post", "put", "delete"):
        found |= {400, 413, 415, 422}
    if method in ("post", "put", "delete") and path.startswith("/api/"):
        found.add(409)
    if path.startswith("/api/") and operation.get("parameters"):
        found.add(422)
    return found


def conform(spec: dict[str, Any]) -> dict[str, Any]:
    """Add the problem responses each operation can give; idempotent."""
    spec.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    for path, methods in spec.get("paths", {}).items():
        for method, operation in methods.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if path == "/metrics":
                responses["200"] = {
                    "description": "Prometheus text exposition format 0.0.4",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
                continue
            if path in ("/healthz", "/readyz"):
                continue
            for status in sorted(_statuses(path, method, operation)):
                responses[str(status)] = _problem(status)
            for code, answer in responses.items():  # a route's own problem statuses, as problems
                if code.isdigit() and int(code) in _WHY and "content" not in answer:
                    answer["content"] = _problem(int(code))["content"]
            if path.startswith("/hooks/pagerduty"):  # answered in PagerDuty's shape, as its clients expect
                responses["400"] = {
                    "description": "The event is invalid (PagerDuty's `errors` list), or the body is not JSON.",
                    "content": {
                        "application/json": {"schema": {"type": "object"}},
                        MEDIA_TYPE: {"schema": _REF},
                    },
                }
    return spec


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the conformed document (built once, then cached)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = conform(build())
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]
