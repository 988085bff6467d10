"""Use cases on incidents: one function per command, shared by every entry point.

Each loads the incident, lets the domain decide, stamps the events into the hash chain
and appends them with the expected version, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from warroom.domain.incidents import commands as rules
from warroom.domain.incidents import mitigation as mitigations
from warroom.domain.incidents.chain import GENESIS, ChainBreak, stamp, verify
from warroom.domain.incidents.commands import Declaration
from warroom.domain.incidents.events import Event, NewEvent
from warroom.domain.incidents.fold import apply
from warroom.domain.incidents.mitigation import MitigationPlan
from warroom.domain.incidents.refs import parse_ref
from warroom.domain.incidents.severity import Severity
from warroom.domain.incidents.state import IncidentState, Role
from warroom.domain.shared.errors import CorruptTimeline, NotFound, ValidationError
from warroom.domain.shared.text import require_text
from warroom.services.comms.outbox import announce
from warroom.services.ports.incidents import IncidentFilter, IncidentSummary
from warroom.services.shared.context import Context

MAX_ACTOR = 120

Decide = Callable[[IncidentState, datetime], list[NewEvent]]


def require_actor(actor: str) -> str:
    """Who acts is stored on every event (120 characters at most, like a person's name)."""
    return require_text(actor, "actor", limit=MAX_ACTOR)


def execute(ctx: Context, ref: str | int, actor: str, decide: Decide) -> IncidentState:
    """Load, let the domain decide, stamp and append with the expected version; returns the new state."""
    number = parse_ref(ref)
    actor = require_actor(actor)
    with ctx.read() as uow:
        state = uow.incidents.load(number)
    # The domain decides outside any transaction; the append re-checks the version, so a
    # concurrent writer makes this one fail with ConcurrencyConflict instead of interleaving.
    now = ctx.clock.now()
    new = decide(state, now)
    events = stamp(number, state.version, state.last_hash, new, actor=actor, recorded_at=now)
    for event in events:
        apply(state, event)
    with ctx.uow() as uow:
        uow.incidents.append(events, state)
        announce(ctx, uow, events, state)  # the outbox rows commit with the events, or neither
        uow.commit()
    return state


def declare_incident(
    ctx: Context, decl: Declaration, actor: str, extra: Sequence[Decide] = ()
) -> IncidentState:
    """Declare an incident; ``extra`` decisions (e.g. attaching alerts) join the same transaction."""
    actor = require_actor(actor)
    with ctx.uow() as uow:
        now = ctx.clock.now()
        declared = rules.declare(decl, now=now, policy=ctx.policy)
        number = uow.incidents.allocate_number()
        events = stamp(number, 0, GENESIS, [declared], actor=actor, recorded_at=now)
        state = apply(None, events[0])
        for decide in extra:
            more = stamp(
                number, state.version, state.last_hash, decide(state, now), actor=actor, recorded_at=now
            )
            for event in more:
                apply(state, event)
            events.extend(more)
        uow.incidents.append(events, state)
        announce(ctx, uow, events, state)
        uow.commit()
    return state


def get_incident(ctx: Context, ref: str | int) -> IncidentState:
    with ctx.read() as uow:
        return uow.incidents.load(parse_ref(ref))


def incident_version(ctx: Context, ref: str | int) -> int | None:
    """A cheap change marker for live views: the number of events recorded so far."""
    with ctx.read() as uow:
        return uow.incidents.version(parse_ref(ref))


def list_incidents(ctx: Context, filters: IncidentFilter) -> list[IncidentSummary]:
    if filters.service is not None:
        require_text(filters.service, "service", limit=100)  # a NUL would fail in PostgreSQL
    with ctx.read() as uow:
        return uow.incidents.summaries(filters)


def timeline(
    ctx: Context,
    ref: str | int,
    *,
    after: int = 0,
    before: int | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> list[Event]:
    number = parse_ref(ref)
    with ctx.read() as uow:
        if uow.incidents.version(number) is None:  # NotFound, not an empty list; no fold needed
            raise NotFound(f"no incident INC-{number}")
        return uow.incidents.events(
            number, after=after, before=before, limit=limit, newest_first=newest_first
        )


def reassess(ctx: Context, ref: str | int, actor: str, changes: dict[str, Any]) -> IncidentState:
    return execute(ctx, ref, actor, lambda s, now: rules.reassess(s, changes, now=now, policy=ctx.policy))


def override_severity(
    ctx: Context, ref: str | int, actor: str, severity: Severity, why: str | None
) -> IncidentState:
    return execute(
        ctx, ref, actor, lambda s, now: rules.override_severity(s, severity, why, now=now, policy=ctx.policy)
    )


def assign_role(ctx: Context, ref: str | int, actor: str, role: Role, person: str) -> IncidentState:
    return execute(ctx, ref, actor, lambda s, now: rules.assign_role(s, role, person, now=now))


def hand_off_role(
    ctx: Context, ref: str | int, actor: str, role: Role, person: str, note: str
) -> IncidentState:
    return execute(
        ctx, ref, actor, lambda s, now: rules.hand_off_role(s, role, person, note, now=now, policy=ctx.policy)
    )


def record_fact(ctx: Context, ref: str | int, actor: str, text: str, source: str) -> IncidentState:
    return execute(
        ctx, ref, actor, lambda s, now: rules.record_fact(s, text, source, now=now, policy=ctx.policy)
    )


def record_guess(ctx: Context, ref: str | int, actor: str, text: str) -> IncidentState:
    return execute(ctx, ref, actor, lambda s, now: rules.record_guess(s, text, now=now, policy=ctx.policy))


def confirm_guess(ctx: Context, ref: str | int, actor: str, guess: str, source: str | None) -> IncidentState:
    return execute(
        ctx, ref, actor, lambda s, now: rules.confirm_guess(s, guess, source, now=now, policy=ctx.policy)
    )


def refute_guess(ctx: Context, ref: str | int, actor: str, guess: str, why: str) -> IncidentState:
    return execute(
        ctx, ref, actor, lambda s, now: rules.refute_guess(s, guess, why, now=now, policy=ctx.policy)
    )


def record_decision(
    ctx: Context,
    ref: str | int,
    actor: str,
    text: str,
    why: str,
    alternatives: Sequence[str],
    reversible: bool,
) -> IncidentState:
    return execute(
        ctx,
        ref,
        actor,
        lambda s, now: rules.record_decision(
            s, text, why, alternatives, reversible=reversible, now=now, policy=ctx.policy
        ),
    )


def retitle(ctx: Context, ref: str | int, actor: str, title: str) -> IncidentState:
    return execute(ctx, ref, actor, lambda s, now: rules.retitle(s, title, now=now, policy=ctx.policy))


def add_note(ctx: Context, ref: str | int, actor: str, text: str, pinned: bool = False) -> IncidentState:
    return execute(
        ctx, ref, actor, lambda s, now: rules.add_note(s, text, pinned=pinned, now=now, policy=ctx.policy)
    )


def propose_mitigation(ctx: Context, ref: str | int, actor: str, plan: MitigationPlan) -> IncidentState:
    return execute(ctx, ref, actor, lambda s, now: mitigations.propose(s, plan, now=now, policy=ctx.policy))


def propose_prepared(ctx: Context, ref: str | int, actor: str, index: int) -> IncidentState:
    """Propose the ``index``-th (1-based) prepared mitigation as listed by :func:`prepared`."""
    state = get_incident(ctx, ref)
    plans = prepared(ctx, state)
    if not 1 <= index <= len(plans):
        raise ValidationError("prepared", f"choose 1..{len(plans)} from the playbook's prepared mitigations")
    return propose_mitigation(ctx, ref, actor, plans[index - 1])


def prepared(ctx: Context, state: IncidentState) -> list[MitigationPlan]:
    """The playbooks' prepared mitigations for the incident's services, lowest risk first."""
    return mitigations.rank_plans(ctx.catalog.prepared_mitigations(state.services), state.kind)


def approve_mitigation(ctx: Context, ref: str | int, actor: str, mitigation: str) -> IncidentState:
    return execute(ctx, ref, actor, lambda s, now: mitigations.approve(s, mitigation, now=now))


def apply_mitigation(
    ctx: Context, ref: str | int, actor: str, mitigation: str, changes: str | None = None
) -> IncidentState:
    return execute(
        ctx, ref, actor, lambda s, now: mitigations.apply(s, mitigation, changes, now=now, policy=ctx.policy)
    )


def record_outcome(
    ctx: Context,
    ref: str | int,
    actor: str,
    mitigation: str,
    outcome: str,
    note: str | None,
    before: float | None = None,
    after: float | None = None,
) -> IncidentState:
    return execute(
        ctx,
        ref,
        actor,
        lambda s, now: mitigations.record_outcome(
            s, mitigation, outcome, note=note, before=before, after=after, now=now, policy=ctx.policy
        ),
    )


def revert_mitigation(ctx: Context, ref: str | int, actor: str, mitigation: str, why: str) -> IncidentState:
    return execute(
        ctx, ref, actor, lambda s, now: mitigations.revert(s, mitigation, why, now=now, policy=ctx.policy)
    )


def mark_mitigated(ctx: Context, ref: str | int, actor: str, evidence: str | None) -> IncidentState:
    return execute(
        ctx, ref, actor, lambda s, now: rules.mark_mitigated(s, evidence, now=now, policy=ctx.policy)
    )


def post_update(
    ctx: Context, ref: str | int, actor: str, text: str, audience: str, *, stage: str | None = None
) -> IncidentState:
    return execute(
        ctx,
        ref,
        actor,
        lambda s, now: rules.post_update(s, text, audience, now=now, policy=ctx.policy, stage=stage),
    )


def resolve(
    ctx: Context,
    ref: str | int,
    actor: str,
    summary: str,
    *,
    impact_stopped: bool,
    risk_controlled: bool,
    data_verified: bool = False,
) -> IncidentState:
    return execute(
        ctx,
        ref,
        actor,
        lambda s, now: rules.resolve(
            s,
            summary,
            impact_stopped=impact_stopped,
            risk_controlled=risk_controlled,
            data_verified=data_verified,
            now=now,
            policy=ctx.policy,
        ),
    )


def reopen(ctx: Context, ref: str | int, actor: str, why: str) -> IncidentState:
    return execute(ctx, ref, actor, lambda s, now: rules.reopen(s, why, now=now, policy=ctx.policy))


def close(ctx: Context, ref: str | int, actor: str) -> IncidentState:
    return execute(ctx, ref, actor, lambda s, now: rules.close(s, now=now))


def verify_chains(ctx: Context, ref: str | int | None = None) -> tuple[int, list[ChainBreak]]:
    """Recompute hash chains (one incident or all); how many were checked, and the first
    break of every incident that has one, in incident order."""
    breaks: list[ChainBreak] = []
    with ctx.read() as uow:
        numbers = [parse_ref(ref)] if ref is not None else uow.incidents.numbers()
        # existence from the read model: folding could fail on the very rows being checked
        if ref is not None and uow.incidents.version(numbers[0]) is None:
            raise NotFound(f"no incident INC-{numbers[0]}")
        for number in numbers:
            try:
                events = uow.incidents.events(number)
            except CorruptTimeline as unreadable:  # a payload that is not even JSON
                breaks.append(ChainBreak(number, unreadable.seq, unreadable.kind, unreadable.problem))
                continue
            broken = verify(events) or _count_mismatch(number, events, uow.incidents.version(number))
            if broken is not None:
                breaks.append(broken)
        return len(numbers), breaks


def _count_mismatch(number: int, events: Sequence[Event], recorded: int | None) -> ChainBreak | None:
    """Rows cut from (or added to) the end of an intact chain: the read model counted them."""
    if recorded is None or recorded == len(events):
        return None
    if len(events) < recorded:
        return ChainBreak(
            number,
            len(events) + 1,
            "missing",
            f"the incident records {recorded} events; only {len(events)} remain",
        )
    extra = events[recorded]
    return ChainBreak(
        number, extra.seq, extra.kind, f"the incident records {recorded} events; this one is extra"
    )
