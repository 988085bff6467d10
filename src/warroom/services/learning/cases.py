"""Use cases of learning: postmortems, follow-ups, the reliability review, readiness and
importing history. One function per command, shared by the CLI, the API and the web.

Follow-up and publish commands append to the incident's timeline like the room's
commands do (load, decide, stamp, append with the expected version) and update the
learning read models in the same transaction, so the follow-up list and the postmortem's
status never disagree with the timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from warroom.domain.incidents.actors import ActorNames
from warroom.domain.incidents.chain import stamp
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.fold import apply
from warroom.domain.incidents.refs import parse_ref
from warroom.domain.incidents.state import Followup, IncidentState
from warroom.domain.learning import followups as rules
from warroom.domain.learning.blameless import Finding, lint_document
from warroom.domain.learning.history_import import ImportedIncident
from warroom.domain.learning.postmortem import Postmortem, draft, edit, missing_sections
from warroom.domain.learning.readiness import PlaybookFacts, Readiness, assess_readiness
from warroom.domain.learning.reliability import review_measured
from warroom.domain.learning.reliability_report import ReliabilityReport
from warroom.domain.learning.review_records import factor_types_of, incident_record
from warroom.domain.shared.errors import ConcurrencyConflict, InvalidTransition, NotFound
from warroom.services.incidents.actors import actor_names_in
from warroom.services.ports.learning import FollowupFilter, FollowupItem, RecordFilter, StoredPostmortem
from warroom.services.ports.uow import UnitOfWork
from warroom.services.shared.context import Context

Decide = Callable[[IncidentState, datetime], list[NewEvent]]
Sync = Callable[[UnitOfWork, IncidentState, datetime], None]
IMPORT_CHUNK = 5000


@dataclass(frozen=True)
class PostmortemResult:
    """A stored postmortem, its document, the lint findings and the incident's follow-ups."""

    stored: StoredPostmortem
    document: Postmortem
    findings: list[Finding]
    followups: list[Followup]
    names: ActorNames  # people and services as they are now, for display


def _execute(ctx: Context, ref: str | int, actor: str, decide: Decide, sync: Sync) -> IncidentState:
    """``incidents.execute``, plus ``sync`` of the learning read models in the transaction
    that appends the events."""
    number = parse_ref(ref)
    with ctx.uow() as uow:
        state = uow.incidents.load(number)
    now = ctx.clock.now()
    events = stamp(number, state.version, state.last_hash, decide(state, now), actor=actor, recorded_at=now)
    for event in events:
        apply(state, event)
    with ctx.uow() as uow:
        uow.incidents.append(events, state)
        sync(uow, state, now)
        uow.commit()
    return state


def _followups_of(uow: UnitOfWork, number: int) -> list[Followup]:
    return [item.followup for item in uow.learning.followups(FollowupFilter(status=None, incident=number))]


def _result(uow: UnitOfWork, stored: StoredPostmortem, doc: Postmortem | None = None) -> PostmortemResult:
    document = doc or Postmortem.from_dict(stored.document)
    findings = lint_document(document.lint_sections())
    return PostmortemResult(
        stored, document, findings, _followups_of(uow, stored.number), actor_names_in(uow)
    )


def _save(
    uow: UnitOfWork, number: int, doc: Postmortem, previous: StoredPostmortem | None, *, at: datetime, by: str
) -> StoredPostmortem:
    if previous is not None and previous.status == "published":
        raise InvalidTransition(f"the postmortem of INC-{number} is published; it is final")
    saved = uow.learning.save_postmortem(number, doc.to_dict(), at=at, by=by)
    if saved.revision != (previous.revision + 1 if previous else 1):
        raise ConcurrencyConflict(f"the postmortem of INC-{number} changed while you edited it; retry")
    uow.learning.forget_record(number)  # its factor types feed the review
    return saved


def draft_postmortem(ctx: Context, ref: str | int, actor: str) -> PostmortemResult:
    """Build (or rebuild) the draft from the timeline, keeping what people wrote."""
    number = parse_ref(ref)
    with ctx.uow() as uow:
        state = uow.incidents.load(number)
        stored = uow.learning.postmortem(number)
        previous = Postmortem.from_dict(stored.document) if stored else None
        now = ctx.clock.now()
        doc = draft(state, uow.incidents.events(number), now=now, previous=previous)
        saved = _save(uow, number, doc, stored, at=now, by=actor)
        result = _result(uow, saved, doc)
        uow.commit()
    return result


def edit_postmortem(ctx: Context, ref: str | int, actor: str, changes: dict[str, object]) -> PostmortemResult:
    """Replace the sections in ``changes``; drafts first when there is no postmortem yet."""
    number = parse_ref(ref)
    with ctx.uow() as uow:
        stored = uow.learning.postmortem(number)
        now = ctx.clock.now()
        if stored is None:
            state = uow.incidents.load(number)
            base = draft(state, uow.incidents.events(number), now=now)
        else:
            base = Postmortem.from_dict(stored.document)
        doc = edit(base, changes)
        saved = _save(uow, number, doc, stored, at=now, by=actor)
        result = _result(uow, saved, doc)
        uow.commit()
    return result


def get_postmortem(ctx: Context, ref: str | int) -> PostmortemResult:
    number = parse_ref(ref)
    with ctx.uow() as uow:
        stored = uow.learning.postmortem(number)
        if stored is None:
            uow.incidents.load(number)  # NotFound for an unknown incident first
            raise NotFound(f"INC-{number} has no postmortem yet: warroom postmortem draft INC-{number}")
        return _result(uow, stored)


def publish_postmortem(
    ctx: Context, ref: str | int, actor: str, *, override: bool, why: str | None
) -> PostmortemResult:
    """Publish: the timeline is redrawn a last time, then completeness and the blameless
    lint decide; an override with its reason is recorded on the timeline and the row."""
    number = parse_ref(ref)
    with ctx.uow() as uow:
        state = uow.incidents.load(number)
        stored = uow.learning.postmortem(number)
        events = uow.incidents.events(number)
    if stored is None:
        raise NotFound(f"INC-{number} has no postmortem yet: warroom postmortem draft INC-{number}")
    now = ctx.clock.now()
    doc = draft(state, events, now=now, previous=Postmortem.from_dict(stored.document))
    findings = lint_document(doc.lint_sections())
    decided = rules.publish_postmortem(
        state, missing=missing_sections(doc), findings=findings, override=override, why=why, now=now
    )
    stamped = stamp(number, state.version, state.last_hash, decided, actor=actor, recorded_at=now)
    for event in stamped:
        apply(state, event)
    reason = stamped[0].payload["why"] if findings else None
    with ctx.uow() as uow:
        uow.incidents.append(stamped, state)
        current = uow.learning.postmortem(number)
        if current is None or current.revision != stored.revision:
            raise ConcurrencyConflict(f"the postmortem of INC-{number} changed while it was published; retry")
        saved = uow.learning.mark_published(
            number, doc.to_dict(), at=now, by=actor, override_why=reason, findings=len(findings)
        )
        uow.learning.forget_record(number)
        result = PostmortemResult(saved, doc, findings, list(state.followups), actor_names_in(uow))
        uow.commit()
    return result


def amend_postmortem(ctx: Context, ref: str | int, actor: str, why: str | None) -> PostmortemResult:
    """Reopen a published postmortem for amendment; ``why`` is recorded on the timeline.
    Edit it, then publish it again (the lint and completeness checks apply again)."""
    number = parse_ref(ref)
    with ctx.uow() as uow:
        state = uow.incidents.load(number)
        stored = uow.learning.postmortem(number)
        now = ctx.clock.now()
        decided = rules.amend_postmortem(state, why=why, now=now)
        if stored is None or stored.status != "published":
            raise InvalidTransition(f"the postmortem of INC-{number} is not published; edit it as it is")
        events = stamp(number, state.version, state.last_hash, decided, actor=actor, recorded_at=now)
        for event in events:
            apply(state, event)
        uow.incidents.append(events, state)
        saved = uow.learning.reopen_postmortem(number, at=now, by=actor)
        uow.learning.forget_record(number)
        result = _result(uow, saved)
        uow.commit()
    return result


# --- follow-ups -------------------------------------------------------------------------


def _sync_followups(uow: UnitOfWork, state: IncidentState, now: datetime) -> None:
    uow.learning.put_followups(state.number, state.followups)


def add_followup(
    ctx: Context, ref: str | int, actor: str, *, title: str, owner: str, due: datetime | None, kind: str
) -> Followup:
    state = _execute(
        ctx,
        ref,
        actor,
        lambda s, now: rules.add_followup(s, title=title, owner=owner, due=due, kind=kind, now=now),
        _sync_followups,
    )
    return state.followups[-1]


def complete_followup(ctx: Context, ref: str | int, actor: str, followup: str) -> Followup:
    state = _execute(
        ctx, ref, actor, lambda s, now: rules.complete_followup(s, followup, now=now), _sync_followups
    )
    return rules.find_followup(state, followup)


def decline_followup(ctx: Context, ref: str | int, actor: str, followup: str, why: str | None) -> Followup:
    state = _execute(
        ctx, ref, actor, lambda s, now: rules.decline_followup(s, followup, why, now=now), _sync_followups
    )
    return rules.find_followup(state, followup)


def list_followups(ctx: Context, filters: FollowupFilter) -> list[FollowupItem]:
    """Open ones first, by due date: the most overdue leads."""
    with ctx.uow() as uow:
        return uow.learning.followups(filters)


# --- the reliability review -------------------------------------------------------------


def refresh_records(ctx: Context) -> int:
    """Rebuild the review records of incidents whose timeline moved on; returns how many."""
    with ctx.uow() as uow:
        stale = uow.learning.stale_records()
        if not stale:
            return 0
        now = ctx.clock.now()
        for number in stale:
            state = uow.incidents.load(number)
            stored = uow.learning.postmortem(number)
            factors = factor_types_of(stored.document) if stored else []
            uow.learning.put_record(number, state.version, state.title, incident_record(state, factors), now)
        uow.commit()
    return len(stale)


def review(
    ctx: Context,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    service: str | None = None,
    severity: int | None = None,
) -> ReliabilityReport:
    """The review over warroom's incidents and imported history together."""
    refresh_records(ctx)
    with ctx.uow() as uow:
        incidents = uow.learning.measured(RecordFilter(since=since, until=until, severity=severity))
    if service:
        incidents = [incident for incident in incidents if service in incident.services]
    report = review_measured(incidents, since=since, until=until)
    if service:
        report = replace(report, by_service=tuple(s for s in report.by_service if s.service == service))
    return report


# --- readiness and history ----------------------------------------------------------------


def playbook_facts(ctx: Context) -> list[PlaybookFacts]:
    """What readiness asks of each catalog service's playbook, by service name."""
    facts: list[PlaybookFacts] = []
    for service in sorted(ctx.catalog.services, key=lambda s: s.name):
        book = service.playbook
        facts.append(
            PlaybookFacts(
                service=service.name,
                has_declaration_template=any(str(v).strip() for v in book.declaration_template.values()),
                triage_questions=sum(1 for question in book.triage_questions if question.strip()),
                commander_candidates=book.commanders,
                comms_candidates=book.comms,
                scribe_candidates=book.scribes,
                mitigations=[(m.title, m.expected_minutes, m.authority) for m in book.mitigations],
            )
        )
    return facts


def readiness(ctx: Context) -> list[Readiness]:
    return [assess_readiness(facts) for facts in playbook_facts(ctx)]


@dataclass(frozen=True)
class ImportResult:
    read: int
    imported: int

    @property
    def skipped(self) -> int:
        """Already imported before (same source and id)."""
        return self.read - self.imported


def import_history(
    ctx: Context, items: Sequence[ImportedIncident], progress: Callable[[int], None] | None = None
) -> ImportResult:
    """Store ``items`` in one transaction (all or nothing); ``progress`` hears each chunk."""
    imported = 0
    with ctx.uow() as uow:
        now = ctx.clock.now()
        for start in range(0, len(items), IMPORT_CHUNK):
            chunk = items[start : start + IMPORT_CHUNK]
            imported += uow.learning.add_history(chunk, now)
            if progress is not None:
                progress(len(chunk))
        uow.commit()
    return ImportResult(read=len(items), imported=imported)
