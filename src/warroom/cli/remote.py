"""The CLI's remote backend: each operation is one call to a warroom server's REST API.

It returns the same JSON views as the embedded backend, and turns the server's
problem+json answers back into the domain's exceptions, so the CLI prints the same
one-line errors in both modes. POSTs carry an ``Idempotency-Key``, so a request retried
after a dropped connection is applied once.
"""

from __future__ import annotations

import time
import uuid
import weakref
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from warroom.domain.shared.errors import (
    ConcurrencyConflict,
    DomainError,
    InvalidTransition,
    NotFound,
    ValidationError,
)

API = "/api/v1"
RETRIES = 2
# A few seconds to connect (a server that is down or unreachable is told at once); the
# answer may take longer (a triage asks Prometheus), but a timeout is never retried: a
# server that does not answer would only make the wait longer.
TIMEOUT = httpx.Timeout(30.0, connect=3.0)

# operation -> (HTTP method, path under /api/v1; "{ref}" is the incident)
ROUTES: dict[str, tuple[str, str]] = {
    "declare": ("POST", "/incidents"),
    "list": ("GET", "/incidents"),
    "show": ("GET", "/incidents/{ref}"),
    "timeline": ("GET", "/incidents/{ref}/timeline"),
    "assess": ("POST", "/incidents/{ref}/assess"),
    "severity": ("POST", "/incidents/{ref}/severity"),
    "role_assign": ("POST", "/incidents/{ref}/roles/assign"),
    "role_handoff": ("POST", "/incidents/{ref}/roles/handoff"),
    "fact": ("POST", "/incidents/{ref}/facts"),
    "guess": ("POST", "/incidents/{ref}/guesses"),
    "confirm": ("POST", "/incidents/{ref}/guesses/confirm"),
    "refute": ("POST", "/incidents/{ref}/guesses/refute"),
    "decide": ("POST", "/incidents/{ref}/decisions"),
    "note": ("POST", "/incidents/{ref}/notes"),
    "change_add": ("POST", "/changes"),
    "changes": ("GET", "/incidents/{ref}/changes"),
    "propose": ("POST", "/incidents/{ref}/mitigations"),
    "approve": ("POST", "/incidents/{ref}/mitigations/approve"),
    "apply": ("POST", "/incidents/{ref}/mitigations/apply"),
    "outcome": ("POST", "/incidents/{ref}/mitigations/outcome"),
    "revert": ("POST", "/incidents/{ref}/mitigations/revert"),
    "prepared": ("GET", "/incidents/{ref}/mitigations/prepared"),
    "mitigated": ("POST", "/incidents/{ref}/mitigated"),
    "update": ("POST", "/incidents/{ref}/updates"),
    "update_template": ("GET", "/incidents/{ref}/updates/template"),
    "resolve": ("POST", "/incidents/{ref}/resolve"),
    "reopen": ("POST", "/incidents/{ref}/reopen"),
    "close": ("POST", "/incidents/{ref}/close"),
    "verify": ("GET", "/verify"),
    "postmortem_draft": ("POST", "/incidents/{ref}/postmortem/draft"),
    "postmortem_edit": ("POST", "/incidents/{ref}/postmortem/edit"),
    "postmortem_show": ("GET", "/incidents/{ref}/postmortem"),
    "postmortem_lint": ("GET", "/incidents/{ref}/postmortem/lint"),
    "postmortem_publish": ("POST", "/incidents/{ref}/postmortem/publish"),
    "postmortem_amend": ("POST", "/incidents/{ref}/postmortem/amend"),
    "followup_add": ("POST", "/incidents/{ref}/followups"),
    "followup_done": ("POST", "/incidents/{ref}/followups/done"),
    "followup_wontdo": ("POST", "/incidents/{ref}/followups/wontdo"),
    "followup_list": ("GET", "/followups"),
    "report": ("GET", "/report"),
    "readiness": ("GET", "/readiness"),
    "import": ("POST", "/history/import"),
    "triage": ("POST", "/incidents/{ref}/triage"),
    "triage_show": ("GET", "/incidents/{ref}/triage"),
    "xray": ("GET", "/incidents/{ref}/xray"),
    "xray_pin": ("POST", "/incidents/{ref}/xray/pin"),
    "mitigation_check": ("POST", "/incidents/{ref}/mitigations/check"),
    "stakeholders": ("GET", "/incidents/{ref}/stakeholders"),
    "stakeholder_add": ("POST", "/incidents/{ref}/stakeholders"),
    "stakeholder_remove": ("POST", "/incidents/{ref}/stakeholders/remove"),
    "outbox_list": ("GET", "/outbox"),
    "outbox_retry": ("POST", "/outbox/retry"),
    "subscriber_list": ("GET", "/status/subscribers"),
    "subscriber_remove": ("POST", "/status/subscribers/remove"),
    "status_components": ("GET", "/status/components"),
    "status_component_set": ("POST", "/status/components/{ref}"),
    "status_maintenance": ("GET", "/status/maintenance"),
    "status_maintenance_add": ("POST", "/status/maintenance"),
    "status_maintenance_cancel": ("POST", "/status/maintenance/{ref}/cancel"),
}

# GET operations with query parameters besides list and timeline
QUERY_KEYS: dict[str, tuple[str, ...]] = {
    "postmortem_show": ("format",),
    "followup_list": ("status", "owner", "incident", "overdue", "limit"),
    "report": ("since", "until", "service", "severity"),
    "readiness": ("threshold", "service"),
    "outbox_list": ("status", "limit"),
    "subscriber_list": ("limit",),
    "status_maintenance": ("all",),
}

_PROBLEMS: dict[str, type[DomainError]] = {
    "not-found": NotFound,
    "invalid-transition": InvalidTransition,
    "broken-chain": InvalidTransition,
    "concurrency-conflict": ConcurrencyConflict,
}


class RemoteError(Exception):
    """The server could not be reached, refused the token, or failed; one line for a person."""


class RemoteBackend:
    """Runs operations on a warroom server at ``url`` with an API token."""

    def __init__(self, url: str, token: str, client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._client = client
        self._sleep = time.sleep

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=TIMEOUT)
            weakref.finalize(self, self._client.close)  # its connections go with the backend
        return self._client

    def call(self, op: str, ref: str | None = None, body: Mapping[str, Any] | None = None) -> Any:
        route = ROUTES.get(op)
        if route is None:
            raise ValueError(f"unknown operation {op!r}")
        method, template = route
        data = dict(body or {})
        path = API + template
        if "{ref}" in template:
            path = path.replace("{ref}", quote(ref or "", safe="") if op.startswith("status_") else _ref(ref))
        if method == "GET":
            answer = self._send("GET", path, params=_query(op, ref, data))
            return answer["events"] if op == "timeline" else answer
        if op == "change_add":
            data = data | {"source": "cli"}
        return self._send("POST", path, json=data)

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        if method == "POST":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        attempts = 1 + (RETRIES if method in ("GET", "POST") else 0)
        for attempt in range(attempts):
            try:
                response = self.client.request(method, self.url + path, headers=headers, **kwargs)
                break
            except httpx.TimeoutException as exc:
                waited = "connect" if isinstance(exc, httpx.ConnectTimeout) else "answer"
                raise RemoteError(
                    f"warroom at {self.url} did not {waited} in time ({_seconds(exc, waited)} s); "
                    "is the server up and the URL right?"
                ) from None
            except httpx.TransportError as exc:
                # Safe to retry: reads change nothing and writes carry an Idempotency-Key.
                if attempt + 1 == attempts:
                    raise RemoteError(f"cannot reach warroom at {self.url}: {_first_line(exc)}") from None
                self._sleep(0.2 * (attempt + 1))
        return _answer(self.url, response)


def _seconds(exc: httpx.TimeoutException, waited: str) -> str:
    try:
        timeout = exc.request.extensions.get("timeout", {})
    except RuntimeError:  # an exception raised without its request
        timeout = {}
    value = timeout.get("connect" if waited == "connect" else "read")
    return f"{value:g}" if isinstance(value, int | float) else "?"


def _ref(ref: str | None) -> str:
    if ref is None:
        raise ValidationError("incident", "this operation needs an incident id such as INC-7")
    # The same check the server makes, so a malformed id fails the same way in both modes.
    from warroom.domain.incidents.refs import parse_ref

    return quote(f"INC-{parse_ref(ref)}", safe="")


def _query(op: str, ref: str | None, data: Mapping[str, Any]) -> dict[str, str]:
    if op == "verify":
        return {"incident": ref} if ref is not None else {}
    keys: tuple[str, ...]
    if op == "timeline":
        keys = ("after", "limit", "newest_first", "before")
    elif op == "list":
        keys = ("status", "severity", "service", "open", "limit")
    else:
        keys = QUERY_KEYS.get(op, ())
    return {key: _text(data[key]) for key in keys if data.get(key) not in (None, "")}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _answer(url: str, response: httpx.Response) -> Any:
    if response.status_code < 400:
        try:
            return response.json()
        except ValueError:
            raise RemoteError(f"warroom at {url} answered {response.status_code} without JSON") from None
    raise _error(url, response)


def _error(url: str, response: httpx.Response) -> Exception:
    """The domain exception (or RemoteError) for a problem+json answer; the server's
    problem document rides along as ``problem``, so ``--json`` prints it unchanged."""
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    error = _exception(url, response.status_code, response.reason_phrase, problem)
    if {"type", "title", "status", "detail"} <= problem.keys():
        error.problem = problem  # type: ignore[attr-defined]
    return error


def _exception(url: str, status: int, reason: str, problem: dict[str, Any]) -> Exception:
    detail = str(problem.get("detail") or reason or "error")
    kind = str(problem.get("type", "")).rsplit("/", 1)[-1]
    field = problem.get("field")
    if status in (400, 413, 422) and isinstance(field, str):
        prefix = f"{field}: "
        return ValidationError(field, detail.removeprefix(prefix))
    if kind in _PROBLEMS:
        return _PROBLEMS[kind](detail)
    if status == 404:
        return NotFound(detail)
    if status == 409:
        return InvalidTransition(detail)
    if status in (401, 403):
        return RemoteError(f"warroom at {url} refused the token ({status}): {detail}")
    return RemoteError(f"warroom at {url} answered {status}: {detail}")
