"""REST resources of learning under ``/api/v1``: postmortems, follow-ups, the reliability
review, readiness and history import. Each route calls ``services.learning_ops`` and
returns its view unchanged, so a remote CLI prints what an embedded one prints.

Reads need a viewer token, writes a responder token, importing history an admin token.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field
from starlette.responses import Response

from warroom.api import models as m
from warroom.api.routes import (
    PREFIX,
    IdempotencyKey,
    Ref,
    Viewer,
    _post,
    add_write_route,
    json_response,
)
from warroom.api.security import Caller, admin
from warroom.services.learning import operations as lops

Admin = Annotated[Caller, Depends(admin)]
Text = str | None
Texts = list[str] | str | None


class SectionsBody(m.Body):
    """The sections people write; absent ones are kept."""

    summary: Text = None
    impact_notes: Text = None
    trigger: Text = None
    contributing_factors: list[dict[str, Any] | str] | None = Field(
        None,
        description="Each {type, text} (or 'TYPE: text'); type is detection, process, tooling, "
        "change, capacity, dependency or other.",
    )
    root_cause_chain: Texts = Field(None, description="Ordered causes, the first cause first.")
    went_well: Texts = None
    hard_decisions: Texts = None
    late_signals: Texts = None
    tooling_failures: Texts = None


class DraftBody(m.Body):
    pass


class PublishBody(m.Body):
    override: bool = Field(False, description="Publish despite blameless-lint findings (needs why).")
    why: Text = Field(None, description="Why the findings stay; recorded on the timeline.")


class AmendBody(m.Body):
    why: str = Field(description="Why the published postmortem changes (new facts, a correction).")


class FollowupBody(m.Body):
    title: str
    owner: str
    due: str = Field(description="2026-12-01 (end of that day, UTC), an ISO 8601 time, or 14d / 2w.")
    kind: str = Field(description="prevent, detect, mitigate or process.")


class FollowupRefBody(m.Body):
    followup: str = Field(description="The follow-up, e.g. A2.")


class WontdoBody(FollowupRefBody):
    why: str = Field(description="Why it will not be done.")


class ImportBody(m.Body):
    format: str = Field("json", description="json, csv or pagerduty.")
    content: str = Field(description="The file's text.")


def build_learning_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["learning"])
    _postmortems(router)
    _followups(router)
    _review(router)
    return router


def _write(router: APIRouter, path: str, op: str, model: type[m.Body], summary: str) -> None:
    add_write_route(router, path, op, model, lops.EMBEDDED[op], summary)


def _postmortems(router: APIRouter) -> None:
    @router.get("/incidents/{ref}/postmortem", operation_id="postmortem_show", summary="The postmortem")
    def show(caller: Viewer, ref: Ref, format: str = "json") -> Response:
        return json_response(lops.postmortem_show(caller.app.context, ref, {"format": format}))

    @router.get(
        "/incidents/{ref}/postmortem/lint",
        operation_id="postmortem_lint",
        summary="Blameless-lint findings of the postmortem",
    )
    def lint(caller: Viewer, ref: Ref) -> Response:
        return json_response(lops.postmortem_lint(caller.app.context, ref))

    _write(
        router, "/incidents/{ref}/postmortem/draft", "postmortem_draft", DraftBody, "Draft from the timeline"
    )
    _write(router, "/incidents/{ref}/postmortem/edit", "postmortem_edit", SectionsBody, "Write sections")
    _write(
        router,
        "/incidents/{ref}/postmortem/publish",
        "postmortem_publish",
        PublishBody,
        "Publish the postmortem",
    )
    _write(
        router,
        "/incidents/{ref}/postmortem/amend",
        "postmortem_amend",
        AmendBody,
        "Reopen the published postmortem for amendment",
    )


def _followups(router: APIRouter) -> None:
    @router.get(
        "/followups", operation_id="followup_list", summary="Follow-ups across incidents, overdue first"
    )
    def followup_list(
        caller: Viewer,
        status: str = "open",
        owner: str | None = None,
        team: str | None = None,
        incident: str | None = None,
        overdue: bool = False,
        limit: Annotated[int, Query(ge=1, le=lops.MAX_LIST)] = 500,
    ) -> Response:
        query = {
            "status": status,
            "owner": owner,
            "team": team,
            "incident": incident,
            "overdue": overdue,
            "limit": limit,
        }
        return json_response(lops.followup_list(caller.app.context, query))

    _write(router, "/incidents/{ref}/followups", "followup_add", FollowupBody, "Add a follow-up")
    _write(router, "/incidents/{ref}/followups/done", "followup_done", FollowupRefBody, "A follow-up is done")
    _write(router, "/incidents/{ref}/followups/wontdo", "followup_wontdo", WontdoBody, "Will not be done")


def _review(router: APIRouter) -> None:
    @router.get(
        "/report", operation_id="report", summary="Reliability review: medians and p90s, fixes, factors"
    )
    def report(
        caller: Viewer,
        since: str | None = None,
        until: str | None = None,
        service: str | None = None,
        severity: str | None = None,
    ) -> Response:
        query = {"since": since, "until": until, "service": service, "severity": severity}
        return json_response(lops.report(caller.app.context, query))

    @router.get("/readiness", operation_id="readiness", summary="Playbook readiness per service")
    def readiness(caller: Viewer, threshold: int | None = None, service: str | None = None) -> Response:
        if threshold is None:
            threshold = int(caller.app.settings.number("readiness", "threshold", 100))
        return json_response(lops.readiness(caller.app.context, {"threshold": threshold, "service": service}))

    @router.post(
        "/history/import",
        operation_id="import",
        summary="Import incident history (all or nothing)",
        description="A malformed file imports nothing; the problem names its line. Incidents already "
        "imported (same format and id) are skipped.",
    )
    def import_history(
        request: Request, caller: Admin, body: ImportBody, key: IdempotencyKey = None
    ) -> Response:
        return _post(
            request,
            caller,
            key,
            body,
            lambda: lops.import_history(
                caller.app.context, caller.actor, body.given() | {"content": body.content}
            ),
        )
