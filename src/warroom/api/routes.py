"""REST under ``/api/v1``: one route per CLI operation, each calling ``services.operations``.

Routes translate HTTP to an operation call and its view back to JSON, unchanged, so a
remote CLI prints what an embedded one prints. They hold no rules and no SQL. Reads need
a viewer token, incident writes a responder token, token management an admin token; the
token's name is the actor recorded on the timeline. POSTs honour ``Idempotency-Key``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from starlette.responses import Response

from warroom.api import models as m
from warroom.api.security import Caller, admin, responder, viewer
from warroom.domain.shared.errors import ValidationError
from warroom.domain.shared.text import unstorable
from warroom.services import operations as ops
from warroom.services.identity import auth, integration_keys
from warroom.services.shared import idempotency

PREFIX = "/api/v1"
INT4 = 2_147_483_647

Viewer = Annotated[Caller, Depends(viewer)]
Responder = Annotated[Caller, Depends(responder)]
Admin = Annotated[Caller, Depends(admin)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Retrying a POST with the same key (and token) returns the first answer and changes nothing.",
    ),
]
Ref = Annotated[str, Path(description="The incident: INC-7 or 7.", examples=["INC-1"])]


def json_response(data: Any, status: int = 200) -> Response:
    return Response(_dumps(data), status_code=status, media_type="application/json")


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _post(
    request: Request,
    caller: Caller,
    key: str | None,
    body: m.Body | None,
    run: Callable[[], Any],
    status: int = 200,
) -> Response:
    """Run a write once per ``Idempotency-Key``; a retry replays the stored first answer."""
    if key is None:
        return json_response(run(), status)
    ctx, actor, path = caller.app.context, caller.actor, request.url.path
    fingerprint = idempotency.request_hash("POST", path, (body.model_dump_json() if body else "").encode())
    replay = idempotency.claim(ctx, actor, key, "POST", path, fingerprint)
    if replay is not None:
        return Response(
            replay.body,
            status_code=replay.status,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    try:
        text = _dumps(run())
    except BaseException:
        idempotency.release(ctx, actor, key)
        raise
    idempotency.remember(ctx, actor, key, status, text)
    return Response(text, status_code=status, media_type="application/json")


async def no_nul(request: Request) -> None:
    """Query and path values with NUL or a lone surrogate are refused, naming the parameter
    (see ``models.refuse_nul``)."""
    for name, value in (*request.query_params.multi_items(), *request.path_params.items()):
        problem = unstorable(value) if isinstance(value, str) else None
        if problem is not None:
            raise ValidationError(name, problem)


def build_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["incidents"], dependencies=[Depends(no_nul)])
    _incident_reads(router)
    _incident_writes(router)
    _mitigations(router)
    _tokens(router)
    return router


def _incident_reads(router: APIRouter) -> None:
    @router.get("/incidents", operation_id="list", summary="List incidents, open ones first")
    def list_incidents(
        caller: Viewer,
        status: str | None = None,
        severity: str | None = None,
        service: str | None = None,
        open: bool = False,
        limit: int = 200,
    ) -> Response:
        query = {"status": status, "severity": severity, "service": service, "open": open, "limit": limit}
        return json_response(ops.list_incidents(caller.app.context, query))

    @router.get("/incidents/{ref}", operation_id="show", summary="The incident room")
    def show(caller: Viewer, ref: Ref) -> Response:
        return json_response(ops.show(caller.app.context, ref))

    @router.get(
        "/incidents/{ref}/timeline",
        operation_id="timeline",
        summary="Timeline events, a page at a time",
        description="Oldest first after `after`; with `newest_first`, newest first before `before`. "
        "`next` is the cursor of the following page (pass it as `after`, or as `before` "
        "when newest first), null on the last page.",
    )
    def timeline(
        caller: Viewer,
        ref: Ref,
        after: Annotated[int, Query(le=INT4)] = 0,
        limit: int = 100,
        newest_first: bool = False,
        before: Annotated[int | None, Query(ge=0, le=INT4)] = None,
    ) -> Response:
        events = ops.timeline(
            caller.app.context, ref, after=after, limit=limit, newest_first=newest_first, before=before
        )
        cursor = events[-1]["seq"] if len(events) == limit else None
        if newest_first and cursor is not None and cursor <= 1:
            cursor = None
        return json_response({"events": events, "next": cursor})

    @router.get("/incidents/{ref}/changes", operation_id="changes", summary="Changes near the incident")
    def changes(caller: Viewer, ref: Ref) -> Response:
        return json_response(ops.changes(caller.app.context, ref))

    @router.get(
        "/incidents/{ref}/updates/template",
        operation_id="update_template",
        summary="A status update prefilled from the incident's state",
    )
    def update_template(caller: Viewer, ref: Ref) -> Response:
        return json_response(ops.update_template(caller.app.context, ref))

    @router.get(
        "/verify",
        operation_id="verify",
        summary="Recompute hash chains (one incident or all)",
        responses={404: {"description": "No incident has the number `incident` names."}},
    )
    def verify(caller: Viewer, incident: str | None = None) -> Response:
        return json_response(ops.verify(caller.app.context, incident or None))


def add_write_route(
    router: APIRouter, path: str, op: str, model: type[m.Body], run: Callable[..., Any], summary: str
) -> None:
    """A responder's POST on an incident: ``run(ctx, actor, ref, body)`` with idempotency."""

    def endpoint(
        request: Request, caller: Responder, ref: Ref, body: Any, key: IdempotencyKey = None
    ) -> Response:
        return _post(
            request, caller, key, body, lambda: run(caller.app.context, caller.actor, ref, body.given())
        )

    endpoint.__annotations__ = endpoint.__annotations__ | {"body": model}
    router.add_api_route(
        path, endpoint, methods=["POST"], operation_id=op, summary=summary, name=op, response_model=None
    )


def _incident_writes(router: APIRouter) -> None:
    @router.post("/incidents", operation_id="declare", status_code=201, summary="Declare an incident")
    def declare(
        request: Request, caller: Responder, body: m.DeclareBody, key: IdempotencyKey = None
    ) -> Response:
        return _post(
            request,
            caller,
            key,
            body,
            lambda: ops.declare(caller.app.context, caller.actor, body.given()),
            201,
        )

    @router.post("/changes", operation_id="change_add", summary="Record a change to a service")
    def change_add(
        request: Request, caller: Responder, body: m.ChangeBody, key: IdempotencyKey = None
    ) -> Response:
        return _post(
            request, caller, key, body, lambda: ops.add_change(caller.app.context, caller.actor, body.given())
        )

    def write(path: str, op: str, model: type[m.Body], run: Callable[..., Any], summary: str) -> None:
        add_write_route(router, path, op, model, run, summary)

    write("/incidents/{ref}/assess", "assess", m.ImpactBody, ops.assess, "Re-assess impact dimensions")
    write("/incidents/{ref}/severity", "severity", m.SeverityBody, ops.set_severity, "Override the severity")
    write("/incidents/{ref}/roles/assign", "role_assign", m.RoleBody, ops.assign_role, "Assign an empty role")
    write(
        "/incidents/{ref}/roles/handoff", "role_handoff", m.HandoffBody, ops.hand_off_role, "Hand off a role"
    )
    write("/incidents/{ref}/facts", "fact", m.FactBody, ops.fact, "Record a confirmed fact")
    write("/incidents/{ref}/guesses", "guess", m.GuessBody, ops.guess, "Record an open guess")
    write("/incidents/{ref}/guesses/confirm", "confirm", m.ConfirmBody, ops.confirm, "Confirm a guess")
    write("/incidents/{ref}/guesses/refute", "refute", m.RefuteBody, ops.refute, "Refute a guess")
    write("/incidents/{ref}/decisions", "decide", m.DecisionBody, ops.decide, "Record a decision")
    write("/incidents/{ref}/notes", "note", m.NoteBody, ops.note, "Add a note")
    write("/incidents/{ref}/retitle", "retitle", m.RetitleBody, ops.retitle, "Rename the incident")
    write("/incidents/{ref}/mitigated", "mitigated", m.MitigatedBody, ops.mitigated, "Mark impact reduced")
    write("/incidents/{ref}/updates", "update", m.UpdateBody, ops.update, "Post a status update")
    write("/incidents/{ref}/resolve", "resolve", m.ResolveBody, ops.resolve, "Resolve the incident")
    write("/incidents/{ref}/reopen", "reopen", m.ReopenBody, ops.reopen, "Reopen a resolved incident")
    write("/incidents/{ref}/close", "close", m.CloseBody, ops.close, "Close a resolved incident")
    write("/incidents/{ref}/mitigations", "propose", m.ProposeBody, ops.propose, "Propose a mitigation")
    write(
        "/incidents/{ref}/mitigations/approve",
        "approve",
        m.MitigationBody,
        ops.approve,
        "Approve a mitigation",
    )
    write("/incidents/{ref}/mitigations/apply", "apply", m.ApplyBody, ops.apply, "Apply a mitigation")
    write("/incidents/{ref}/mitigations/outcome", "outcome", m.OutcomeBody, ops.outcome, "Record an outcome")
    write("/incidents/{ref}/mitigations/revert", "revert", m.RevertBody, ops.revert, "Revert a mitigation")
    write(
        "/incidents/{ref}/triage",
        "triage",
        m.TriageBody,
        ops.triage,
        "Measure impact now and record it (impact probe)",
    )
    write(
        "/incidents/{ref}/stakeholders",
        "stakeholder_add",
        m.StakeholderBody,
        ops.stakeholder_add,
        "Add a stakeholder (a channel name or an email address) to this incident's updates",
    )
    write(
        "/incidents/{ref}/stakeholders/remove",
        "stakeholder_remove",
        m.StakeholderRemoveBody,
        ops.stakeholder_remove,
        "Remove a stakeholder (a playbook's is excluded from this incident only)",
    )
    write(
        "/incidents/{ref}/mitigations/check",
        "mitigation_check",
        m.CheckBody,
        ops.mitigation_check,
        "Check applied mitigations against the metrics and record their outcomes",
    )


def _mitigations(router: APIRouter) -> None:
    @router.get(
        "/incidents/{ref}/mitigations/prepared",
        operation_id="prepared",
        summary="The playbooks' prepared mitigations, lowest risk first",
    )
    def prepared(caller: Viewer, ref: Ref) -> Response:
        return json_response(ops.prepared_list(caller.app.context, ref))

    @router.get(
        "/incidents/{ref}/triage",
        operation_id="triage_show",
        summary="The last recorded impact measurement (does not ask Prometheus)",
    )
    def triage_show(caller: Viewer, ref: Ref) -> Response:
        return json_response(ops.triage_show(caller.app.context, ref))

    @router.get(
        "/incidents/{ref}/stakeholders",
        operation_id="stakeholders",
        summary="Who gets this incident's status updates (playbooks' and the incident's own)",
    )
    def stakeholders(caller: Viewer, ref: Ref) -> Response:
        return json_response(ops.stakeholders(caller.app.context, ref))


def _tokens(router: APIRouter) -> None:
    @router.get("/tokens", operation_id="token_list", tags=["tokens"], summary="List API tokens")
    def list_tokens(caller: Admin) -> Response:
        return json_response(integration_keys.token_views(caller.app.context))  # keys masked

    @router.post(
        "/tokens",
        operation_id="token_create",
        status_code=201,
        tags=["tokens"],
        summary="Create an API token; the secret is in this answer only",
        description="Not replayed by Idempotency-Key: the secret is never stored. Names are unique, "
        "so a retry answers 422 on `name` instead of creating a second token.",
    )
    def create_token(caller: Admin, body: m.TokenBody) -> Response:
        plain, info = auth.create_token(
            caller.app.context, body.name, body.role, body.source, owner=body.owner, kind=body.kind
        )
        return json_response(auth.token_view(info) | {"token": plain}, 201)

    @router.delete(
        "/tokens/{name_or_id}", operation_id="token_revoke", tags=["tokens"], summary="Revoke a token"
    )
    def revoke_token(caller: Admin, name_or_id: str) -> Response:
        return json_response(auth.token_view(auth.revoke_token(caller.app.context, name_or_id)))

    @router.get("/whoami", operation_id="whoami", tags=["tokens"], summary="The calling token")
    def whoami(caller: Viewer) -> Response:
        return json_response(auth.token_view(caller.token))
