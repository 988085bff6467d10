"""Use cases on an incident's stakeholders: list, add, remove.

Each change is a timeline event and a row of the ``incident_stakeholders`` read model,
written in one transaction with the expected version, like every incident command.
"""

from __future__ import annotations

from collections.abc import Collection

from warroom.domain.comms import stakeholders as rules
from warroom.domain.comms.stakeholders import Stakeholder, StakeholderChange
from warroom.domain.incidents.chain import stamp
from warroom.domain.incidents.fold import apply
from warroom.domain.incidents.refs import parse_ref
from warroom.domain.shared.errors import ValidationError
from warroom.services.comms.outbox import announce, playbook_stakeholders, stakeholders_of
from warroom.services.shared.context import Context


def list_stakeholders(ctx: Context, ref: str | int) -> list[Stakeholder]:
    with ctx.uow() as uow:
        state = uow.incidents.load(parse_ref(ref))
        return stakeholders_of(ctx, uow, state)


def _known(target: str, channels: Collection[str] | None) -> None:
    if channels is None or rules.is_email(target) or target in channels:
        return
    known = ", ".join(sorted(channels)) or "none configured"
    raise ValidationError(
        "stakeholder", f"{target!r} is no [[notify.channels]] name ({known}) and no email address"
    )


def add_stakeholder(
    ctx: Context,
    ref: str | int,
    actor: str,
    target: str,
    audience: str = "internal",
    *,
    channels: Collection[str] | None = None,
) -> list[Stakeholder]:
    """Add ``target`` (a channel name or an email address) for ``audience``; with
    ``channels`` given, a name must be one of them. Returns the new list."""
    number = parse_ref(ref)
    with ctx.uow() as uow:
        state = uow.incidents.load(number)
        current = stakeholders_of(ctx, uow, state)
        now = ctx.clock.now()
        new = rules.add(state, current, target, audience, now=now)
        _known(new[0].payload["target"], channels)
        events = stamp(number, state.version, state.last_hash, new, actor=actor, recorded_at=now)
        for event in events:
            apply(state, event)
        uow.incidents.append(events, state)
        payload = events[0].payload
        uow.stakeholders.put(
            number, StakeholderChange(payload["target"], payload["audience"], False), actor, now
        )
        announce(ctx, uow, events, state)
        uow.commit()
        return stakeholders_of(ctx, uow, state)


def remove_stakeholder(ctx: Context, ref: str | int, actor: str, target: str) -> list[Stakeholder]:
    """Remove ``target``; a playbook stakeholder is excluded from this incident only."""
    number = parse_ref(ref)
    with ctx.uow() as uow:
        state = uow.incidents.load(number)
        current = stakeholders_of(ctx, uow, state)
        now = ctx.clock.now()
        new = rules.remove(state, current, target, now=now)
        events = stamp(number, state.version, state.last_hash, new, actor=actor, recorded_at=now)
        for event in events:
            apply(state, event)
        uow.incidents.append(events, state)
        who = events[0].payload["target"]
        if who in playbook_stakeholders(ctx, state):
            uow.stakeholders.put(number, StakeholderChange(who, "internal", True), actor, now)
        else:
            uow.stakeholders.drop(number, who)
        announce(ctx, uow, events, state)
        uow.commit()
        return stakeholders_of(ctx, uow, state)
