"""The status page's operations with plain inputs and JSON views out, shared by the CLI
(both backends), the REST API and the web admin form."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from warroom.domain.comms.statuspage import LABELS, Maintenance, ManualState
from warroom.domain.shared.errors import ValidationError
from warroom.domain.shared.timefmt import iso, parse_time
from warroom.services.comms import statuspage
from warroom.services.shared.context import Context

View = dict[str, Any]
Handler = Callable[[Context, str, str | None, Mapping[str, Any]], Any]
MAX_SERVICES = 50


def _manual_view(manual: ManualState | None) -> View | None:
    if manual is None:
        return None
    return {"state": manual.state, "reason": manual.reason, "by": manual.by, "at": iso(manual.at)}


def maintenance_view(window: Maintenance, ctx: Context) -> View:
    return {
        "id": window.ref,
        "services": list(window.services),
        "starts_at": iso(window.starts_at),
        "ends_at": iso(window.ends_at),
        "text": window.text,
        "phase": window.phase(ctx.clock.now()),
        "created_by": window.created_by,
        "created_at": iso(window.created_at),
        "cancelled_at": iso(window.cancelled_at) if window.cancelled_at else None,
    }


def components_view(ctx: Context) -> list[View]:
    """Each component: service, public name and group, state shown, automatic state, hand-set state."""
    page = statuspage.read_page(ctx).page
    return [
        {
            "service": c.service,
            "name": c.name,
            "group": c.group,
            "state": c.state,
            "label": LABELS[c.state],
            "automatic": c.automatic,
            "manual": _manual_view(c.manual),
        }
        for c in page.components
    ]


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(name, "must be text")
    return value


def set_component(ctx: Context, actor: str, service: str | None, body: Mapping[str, Any]) -> View:
    state = _text(body, "state")
    if not state.strip():
        raise ValidationError("state", f"give a state: {', '.join(LABELS)} or auto")
    statuspage.set_component(ctx, actor, service or "", state, _text(body, "reason"))
    return next(c for c in components_view(ctx) if c.get("service") == (service or "").strip())


def _services(body: Mapping[str, Any]) -> list[str]:
    raw = body.get("services")
    if isinstance(raw, str):
        raw = [part for part in raw.replace(",", " ").split()]
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ValidationError("services", "give the components' service names as a list")
    if len(raw) > MAX_SERVICES:
        raise ValidationError("services", f"at most {MAX_SERVICES} services")
    return raw


def schedule(ctx: Context, actor: str, _: str | None, body: Mapping[str, Any]) -> View:
    window = statuspage.schedule_maintenance(
        ctx,
        actor,
        _services(body),
        parse_time(_text(body, "starts_at"), "starts_at"),
        parse_time(_text(body, "ends_at"), "ends_at"),
        _text(body, "text"),
    )
    return maintenance_view(window, ctx)


def cancel(ctx: Context, actor: str, ref: str | None, _: Mapping[str, Any]) -> View:
    return maintenance_view(statuspage.cancel_maintenance(ctx, actor, ref or ""), ctx)


def maintenance_list(ctx: Context, body: Mapping[str, Any]) -> list[View]:
    past = body.get("all") in (True, "true", "1", 1)
    now = ctx.clock.now()
    windows = statuspage.list_maintenance(ctx, include_past=past)
    return [maintenance_view(w, ctx) for w in windows if past or w.phase(now) in ("upcoming", "in_progress")]


EMBEDDED: dict[str, Handler] = {
    "status_components": lambda ctx, actor, ref, body: components_view(ctx),
    "status_component_set": set_component,
    "status_maintenance": lambda ctx, actor, ref, body: maintenance_list(ctx, body),
    "status_maintenance_add": schedule,
    "status_maintenance_cancel": cancel,
}
