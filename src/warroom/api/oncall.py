"""REST resources of on call under ``/api/v1``: the directory, schedules, policies, who
is on call, and pages. Each route calls ``services.oncall.operations`` and returns its
view unchanged.

Reads need a viewer token; paging and acknowledging a responder token; changing the
directory, schedules and policies an admin token (overrides: a responder, since covering
a shift is everyday work).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import Field
from starlette.responses import Response

from warroom.api import models as m
from warroom.api.routes import (
    PREFIX,
    Admin,
    IdempotencyKey,
    Responder,
    Viewer,
    _post,
    json_response,
    no_nul,
)
from warroom.bootstrap import App, build_oncall
from warroom.services.oncall import operations as oops
from warroom.services.oncall.config import OncallConfig

Name = Annotated[str, Path(description="A name: letters, digits, '.', '_' or '-'.", max_length=100)]
PageRef = Annotated[str, Path(description="The page: P-12 or 12.", examples=["P-1"], max_length=30)]
Document = Annotated[dict[str, Any], Body(description="The document (see docs/oncall.md).")]
_CONFIGS = "warroom_oncall_configs"


def config_of(request: Request, app: App) -> OncallConfig:
    """The on-call config of ``app``, built once per server."""
    cache: dict[int, OncallConfig] | None = getattr(request.app.state, _CONFIGS, None)
    if cache is None:
        cache = {}
        setattr(request.app.state, _CONFIGS, cache)
    found = cache.get(id(app))
    if found is None:
        found = cache[id(app)] = build_oncall(app)
    return found


class PageBody(m.Body):
    target: str = Field(description="A team, person, schedule or policy (or kind:name).", max_length=100)
    reason: str | None = Field(None, description="Why: one line the person reads first.", max_length=500)
    incident: str | None = Field(None, description="The incident it is about, e.g. INC-7.", max_length=30)


class ResolveBody(m.Body):
    why: str | None = Field(None, description="Why it needs no one any more.", max_length=500)


class OverrideBody(m.Body):
    person: str = Field(description="Who covers.", max_length=64)
    start: str = Field(description="From, ISO 8601 with a zone.", max_length=40)
    end: str = Field(description="Until, ISO 8601 with a zone.", max_length=40)
    replaces: str | None = Field(None, description="Whom they cover for.", max_length=64)
    note: str | None = Field(None, max_length=500)


class SwapBody(m.Body):
    at: str = Field(description="A time inside the first shift.", max_length=40)
    with_: str = Field(alias="with", description="A time inside the other person's shift.", max_length=40)


class ContactBody(m.Body):
    name: str = Field(max_length=64)
    kind: str = Field(description="email, webhook, slack or apprise.", max_length=20)
    address: str = Field(description="Email address, webhook URL or Apprise URL.", max_length=2000)
    secret: str | None = Field(None, description="Signing secret of a webhook.", max_length=500)


class RulesBody(m.Body):
    rules: list[str] = Field(description="METHOD=MINUTES, e.g. push=0, mail=2, sms=5.")


class ServicePolicyBody(m.Body):
    policy: str | None = Field(None, description="The escalation policy (null: none).", max_length=64)


# --- the shapes most routes share: list, add or replace a document, remove by name ----------


def _listing(
    router: APIRouter, path: str, operation_id: str, summary: str, read: Callable[[Any], Any]
) -> None:
    @router.get(path, operation_id=operation_id, summary=summary)
    def listing(caller: Viewer) -> Response:
        return json_response(read(caller.app.context))


def _putting(
    router: APIRouter, path: str, operation_id: str, summary: str, put: Callable[[Any, dict[str, Any]], Any]
) -> None:
    @router.post(path, operation_id=operation_id, summary=summary)
    def putting(request: Request, caller: Admin, body: Document, key: IdempotencyKey = None) -> Response:
        return _post(request, caller, key, None, lambda: put(caller.app.context, body))


def _removing(
    router: APIRouter, path: str, operation_id: str, summary: str, remove: Callable[[Any, str], Any]
) -> None:
    """``DELETE path`` where ``path`` ends in ``{name}``."""

    @router.delete(path, operation_id=operation_id, summary=summary)
    def removing(caller: Admin, name: Name) -> Response:
        return json_response(remove(caller.app.context, name))


def _config(request: Request, caller: Responder) -> OncallConfig:
    return config_of(request, caller.app)


Config = Annotated[OncallConfig, Depends(_config)]


def build_oncall_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["oncall"], dependencies=[Depends(no_nul)])
    _directory(router)
    _schedules(router)
    _pages(router)
    _heartbeats(router)
    return router


def _heartbeats(router: APIRouter) -> None:
    path = "/oncall/heartbeats"
    _listing(router, path, "oncall_heartbeats", "Heartbeat monitors", oops.heartbeat_list)
    _putting(router, path, "oncall_heartbeat_put", "Add or replace a monitor", oops.heartbeat_put)
    _removing(router, path + "/{name}", "oncall_heartbeat_remove", "Remove a monitor", oops.heartbeat_remove)


def _directory(router: APIRouter) -> None:
    _putting(
        router, "/oncall/apply", "oncall_apply", "Declare people, teams, schedules, policies", oops.apply
    )
    _listing(router, "/oncall/people", "oncall_people", "The directory of people", oops.people)
    _putting(router, "/oncall/people", "oncall_person_put", "Add or replace a person", oops.person_put)

    @router.get(
        "/oncall/people/{handle}", operation_id="oncall_person", summary="A person and their next shifts"
    )
    def person(caller: Viewer, handle: Name) -> Response:
        return json_response(oops.person_show(caller.app.context, handle))

    @router.delete("/oncall/people/{handle}", operation_id="oncall_person_remove", summary="Remove a person")
    def person_remove(caller: Admin, handle: Name) -> Response:
        return json_response(oops.person_remove(caller.app.context, handle))

    @router.post(
        "/oncall/people/{handle}/contacts", operation_id="oncall_contact_add", summary="Add a contact method"
    )
    def contact_add(
        request: Request, caller: Admin, handle: Name, body: ContactBody, key: IdempotencyKey = None
    ) -> Response:
        return _post(
            request, caller, key, body, lambda: oops.contact_add(caller.app.context, handle, body.given())
        )

    @router.post(
        "/oncall/people/{handle}/rules", operation_id="oncall_rules_set", summary="Set notification rules"
    )
    def rules(
        request: Request, caller: Admin, handle: Name, body: RulesBody, key: IdempotencyKey = None
    ) -> Response:
        return _post(
            request, caller, key, body, lambda: oops.rules_set(caller.app.context, handle, body.given())
        )

    path = "/oncall/policies"
    _listing(router, path, "oncall_policies", "Escalation policies", oops.policy_list)
    _putting(router, path, "oncall_policy_put", "Add or replace a policy", oops.policy_put)
    _removing(router, path + "/{name}", "oncall_policy_remove", "Remove a policy", oops.policy_remove)

    @router.post(
        "/oncall/services/{name}/policy", operation_id="oncall_service_policy", summary="A service's policy"
    )
    def service_policy(
        request: Request, caller: Admin, name: Name, body: ServicePolicyBody, key: IdempotencyKey = None
    ) -> Response:
        given = body.given() | {"service": name}
        return _post(request, caller, key, body, lambda: oops.policy_assign(caller.app.context, given))


def _schedules(router: APIRouter) -> None:
    @router.get("/oncall/now", operation_id="oncall_now", summary="Who is on call now, or at a time")
    def now(
        caller: Viewer,
        schedule: Annotated[str | None, Query(max_length=100)] = None,
        service: Annotated[str | None, Query(max_length=100)] = None,
        at: Annotated[str | None, Query(max_length=40)] = None,
    ) -> Response:
        return json_response(
            oops.now(caller.app.context, {"schedule": schedule, "service": service, "at": at})
        )

    path = "/oncall/schedules"
    _listing(router, path, "oncall_schedules", "Schedules", oops.schedule_list)
    _putting(router, path, "oncall_schedule_put", "Add or replace a schedule", oops.schedule_put)
    _removing(router, path + "/{name}", "oncall_schedule_remove", "Remove a schedule", oops.schedule_remove)

    @router.get("/oncall/schedules/{name}", operation_id="oncall_schedule", summary="A schedule's timeline")
    def schedule(
        caller: Viewer,
        name: Name,
        days: Annotated[float, Query(gt=0, le=92)] = 14,
        start: Annotated[str | None, Query(max_length=40)] = None,
    ) -> Response:
        return json_response(oops.schedule_show(caller.app.context, name, {"days": days, "start": start}))

    @router.post(
        "/oncall/schedules/{name}/overrides", operation_id="oncall_override", summary="Cover a stretch"
    )
    def override(
        request: Request, caller: Responder, name: Name, body: OverrideBody, key: IdempotencyKey = None
    ) -> Response:
        return _post(
            request,
            caller,
            key,
            body,
            lambda: oops.override_add(caller.app.context, caller.actor, name, body.given()),
        )

    @router.delete(
        "/oncall/schedules/{name}/overrides/{override_id}",
        operation_id="oncall_override_remove",
        summary="Remove an override",
    )
    def override_remove(
        caller: Responder, name: Name, override_id: Annotated[int, Path(ge=1, le=2**62)]
    ) -> Response:
        return json_response(oops.override_remove(caller.app.context, name, override_id))

    @router.post("/oncall/schedules/{name}/swap", operation_id="oncall_swap", summary="Swap two shifts")
    def swap(
        request: Request, caller: Responder, name: Name, body: SwapBody, key: IdempotencyKey = None
    ) -> Response:
        given = {"at": body.at, "with": body.with_}
        return _post(
            request, caller, key, body, lambda: oops.swap(caller.app.context, caller.actor, name, given)
        )

    @router.get("/oncall/shifts/{handle}", operation_id="oncall_shifts", summary="A person's next shifts")
    def shifts(caller: Viewer, handle: Name, days: Annotated[float, Query(gt=0, le=92)] = 28) -> Response:
        return json_response(oops.shifts(caller.app.context, handle, {"days": days}))


def _pages(router: APIRouter) -> None:
    @router.get("/pages", operation_id="pages", summary="Pages, open ones (or all)")
    def pages(
        caller: Viewer,
        all: bool = False,
        incident: Annotated[str | None, Query(max_length=30)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> Response:
        return json_response(
            oops.page_list(caller.app.context, {"all": all, "incident": incident, "limit": limit})
        )

    @router.post("/pages", operation_id="page", summary="Page someone now")
    def page(
        request: Request, caller: Responder, config: Config, body: PageBody, key: IdempotencyKey = None
    ) -> Response:
        return _post(
            request,
            caller,
            key,
            body,
            lambda: oops.page(caller.app.context, config, caller.actor, body.given()),
        )

    @router.get("/pages/{page}", operation_id="page_show", summary="A page and its notifications")
    def page_show(caller: Viewer, page: PageRef) -> Response:
        return json_response(oops.page_show(caller.app.context, page))

    @router.post("/pages/{page}/ack", operation_id="page_ack", summary="Acknowledge a page")
    def ack(
        request: Request, caller: Responder, config: Config, page: PageRef, key: IdempotencyKey = None
    ) -> Response:
        return _post(
            request, caller, key, None, lambda: oops.ack(caller.app.context, config, caller.actor, page)
        )

    @router.post("/pages/{page}/resolve", operation_id="page_resolve", summary="Resolve a page")
    def resolve(
        request: Request,
        caller: Responder,
        config: Config,
        page: PageRef,
        body: ResolveBody,
        key: IdempotencyKey = None,
    ) -> Response:
        return _post(
            request,
            caller,
            key,
            body,
            lambda: oops.resolve(caller.app.context, config, caller.actor, page, body.given()),
        )
