"""Who a status update will reach, said before it is posted: the room's update form shows,
per audience, the channels and stakeholders it goes to, the ones it will not reach and
why, and (public) the status page's subscribers who follow the incident's services."""

from __future__ import annotations

from typing import Any

from warroom.domain.comms.notifications import Notification
from warroom.domain.comms.stakeholders import AUDIENCES, Stakeholder, recipients
from warroom.domain.incidents.state import IncidentState
from warroom.services.comms import subscribers
from warroom.services.comms.health import gap, outbox_config
from warroom.services.comms.outbox import catalog_or_empty, channel_names, team_of, unconfigured
from warroom.services.ports.comms import OutboxMessage
from warroom.services.ports.uow import UnitOfWork
from warroom.services.shared.context import Context

View = dict[str, Any]


def update_preview(ctx: Context, uow: UnitOfWork, state: IncidentState, people: list[Stakeholder]) -> View:
    """``{"internal": {...}, "public": {...}}``, each with ``reach`` (channel names),
    ``miss`` (``{"target", "why"}``) and, for public, ``subscribers`` (how many)."""
    config = outbox_config(ctx)
    probe = Notification(
        key="preview",
        kind="status_update_posted",
        incident=state.ref,
        severity=int(state.severity),
        services=tuple(state.services),
        team=team_of(catalog_or_empty(ctx), state.services),
        title="preview",
        text="",
        url=None,
        fields=(),
        occurred_at=ctx.clock.now(),
    )
    found: View = {}
    for audience in AUDIENCES:
        targets = tuple(recipients(people, audience))
        if config is None:  # not known here: name the stakeholders, claim nothing more
            found[audience] = {"reach": list(targets), "miss": [], "subscribers": 0}
            continue
        names = channel_names(OutboxMessage(probe, targets), config)
        missed = [{"target": t, "why": why.split(": ", 1)[1]} for t in targets if (why := gap(t, config))]
        found[audience] = {
            "reach": [name for name in names if unconfigured(name, config) is None],
            "miss": missed,
            "subscribers": len(subscribers.targets(uow, subscribers.public_names(ctx, state.services)))
            if audience == "public"
            else 0,
        }
    return found
