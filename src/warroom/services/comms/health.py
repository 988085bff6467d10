"""Where a failing channel shows: what an update will not reach, the room's notices,
``/readyz``'s detail.

Nothing here sends or decides anything; it reads the outbox's configuration and the
channels' state (``ChannelState``: deliveries by status, consecutive failures, the
circuit) and words them for people.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from warroom.domain.comms.announcements import event_notification
from warroom.domain.comms.stakeholders import Stakeholder, is_email, recipients
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.timefmt import iso
from warroom.services.comms.outbox import (
    EMAIL_PREFIX,
    OutboxConfig,
    catalog_or_empty,
    channel_names,
    stakeholders_of,
    team_of,
    unconfigured,
)
from warroom.services.ports.comms import ChannelState, OutboxMessage
from warroom.services.shared.context import Context

log = logging.getLogger("warroom.outbox")

DOCS = "see docs/notifications.md"
View = dict[str, Any]


def outbox_config(ctx: Context) -> OutboxConfig | None:
    """The configuration, or None when it is not known here or does not parse (the
    commands that send read it again and say what is wrong)."""
    try:
        config = ctx.outbox
    except Exception as exc:
        log.warning("the notification settings do not parse: %s", str(exc).splitlines()[0])
        return None
    return config if isinstance(config, OutboxConfig) else None


def _delivery_target(target: str) -> str:
    return f"{EMAIL_PREFIX}{target}" if is_email(target) else target


def gap(target: str, config: OutboxConfig) -> str | None:
    """Why a stakeholder ``target`` (channel name or email address) gets nothing, or None."""
    if unconfigured(_delivery_target(target), config) is None:
        return None
    if is_email(target):
        return f"stakeholder {target}: no SMTP server configured for email ([notify.smtp], {DOCS})"
    return f"stakeholder {target}: no channel configured ([[notify.channels]] name {target}, {DOCS})"


def stakeholder_gaps(ctx: Context, stakeholders: Iterable[Stakeholder]) -> dict[str, str]:
    """Stakeholders nothing is configured to reach, with the reason, by target."""
    config = outbox_config(ctx)
    if config is None:
        return {}
    found = {s.target: gap(s.target, config) for s in stakeholders}
    return {target: reason for target, reason in found.items() if reason is not None}


def update_reach(ctx: Context, state: IncidentState) -> View:
    """Where the status update just posted on ``state`` (its last event) goes: the
    configured channels, and a warning for each stakeholder or route nothing reaches."""
    config = outbox_config(ctx)
    if config is None:
        return {"channels": [], "warnings": []}
    with ctx.read() as uow:
        [event] = uow.incidents.events(state.number, after=state.version - 1, limit=1)
        people = stakeholders_of(ctx, uow, state)
    if event.kind != "status_update_posted":  # cannot happen: post_update appends one event
        return {"channels": [], "warnings": []}
    notification = event_notification(event, state, team=team_of(catalog_or_empty(ctx), state.services))
    if notification is None:
        return {"channels": [], "warnings": []}
    audience = str(event.payload.get("audience", "internal"))
    targets = tuple(recipients(people, audience))
    names = channel_names(OutboxMessage(notification, targets), config)
    reached = [name for name in names if unconfigured(name, config) is None]
    warnings = [reason for target in targets if (reason := gap(target, config)) is not None]
    if not reached:
        warnings.append(
            "this update reaches no one: no configured channel is a stakeholder of "
            f"{state.ref} or routes status updates ({DOCS})"
        )
    return {"channels": reached, "warnings": warnings}


def _hhmm(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M:%S UTC")


def channel_view(c: ChannelState) -> View:
    """A channel's state as JSON (``/readyz``)."""
    return {
        "channel": c.name,
        "circuit": "open" if c.circuit_open else "closed",
        "open_until": iso(c.open_until) if c.open_until else None,
        "failures": c.failures,
        "pending": c.pending,
        "dead": c.dead,
        "last_error": c.last_error,
        "last_failure_at": iso(c.last_failure_at) if c.last_failure_at else None,
        "last_success_at": iso(c.last_success_at) if c.last_success_at else None,
        "dead_error": c.dead_error,
    }


def notifications_health(ctx: Context) -> View:
    """``/readyz``'s ``notifications``: ``degraded`` when any channel is failing, has its
    circuit open or holds dead letters; those channels are listed."""
    with ctx.read() as uow:
        states = [c for c in uow.outbox.channels(delivered=False) if c.degraded]
    return {"status": "degraded" if states else "ok", "channels": [channel_view(c) for c in states]}


def room_notices(
    ctx: Context, states: Sequence[ChannelState], stakeholders: Sequence[Stakeholder], now: datetime
) -> list[str]:
    """What the room says about an incident's notifications: each channel they go to that
    is failing or holds their dead letters (``states``: the store's ``channels(incident)``),
    and each stakeholder nothing reaches."""
    gaps = stakeholder_gaps(ctx, stakeholders)
    unreached = {_delivery_target(target) for target in gaps}
    notices: list[str] = []
    for c in states:
        tries = f"{c.failures} attempt{'' if c.failures == 1 else 's'} in a row failed"
        waiting = f"{c.pending} of this incident's notifications {'waits' if c.pending == 1 else 'wait'}"
        if c.circuit_open:
            when = (
                f"until {_hhmm(c.open_until)}"
                if c.open_until and c.open_until > now
                else "until a probe gets through"
            )
            notices.append(
                f"Channel {c.name} is failing: {tries}, so nothing is sent to it {when}; "
                f"{waiting}. Last error: {c.last_error}"
            )
        elif c.failures:
            notices.append(
                f"Channel {c.name} is failing: {tries}; they are retried and {waiting}. "
                f"Last error: {c.last_error}"
            )
        if c.dead and c.name not in unreached:  # else the stakeholder's notice says why
            notices.append(
                f"Channel {c.name}: {c.dead} of this incident's notifications "
                f"{'was' if c.dead == 1 else 'were'} given up (dead letters: `warroom outbox list`, "
                f"`warroom outbox retry`). Last: {c.dead_error}"
            )
    return notices + list(gaps.values())
