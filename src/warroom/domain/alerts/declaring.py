"""Declaring from alerts: the declaration template filled from alerts, and the events
that attach alerts to an incident and record their resolution.

Pure decisions, no I/O: the time comes in as ``now``. :func:`declaration_for` fills the
declaration from the alerts of one route: detected at their earliest ``startsAt``, title
from alertname and service, scope from the policy's scope labels, severity from a
matching rule (or from a person). :func:`declare_event`, :func:`attach_events` and
:func:`resolved_event` return the ``NewEvent`` values to append; nothing is stored here.
An incident's scope is the union of what its alerts name: alerts attached later that name
another value of a scope label widen it (:func:`scope_event`, ``scope_widened``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from warroom.domain.alerts.policy import MAX_NAME, AlertPolicy, DeclareRule
from warroom.domain.alerts.routing import UNROUTED, Route
from warroom.domain.alerts.signals import AlertSignal
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents.commands import Declaration
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.policy import ResponsePolicy
from warroom.domain.incidents.severity import IncidentKind, Severity
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.timefmt import EARLIEST, iso


@dataclass(frozen=True)
class AlertFacts:
    """What a declaration needs to know about one alert, stored or just delivered."""

    source: str
    fingerprint: str
    name: str
    summary: str
    severity: str | None
    labels: Mapping[str, str]
    starts_at: datetime | None


@dataclass(frozen=True)
class AlertDeclaration:
    """A declaration template filled from alerts, with what the timeline should say."""

    declaration: Declaration
    explanation: str | None = None
    ownership_note: str | None = None
    attach: Sequence[AlertFacts] = field(default=())


def declaration_for(
    alerts: Sequence[AlertFacts],
    route: Route,
    policy: AlertPolicy,
    *,
    now: datetime,
    rule: DeclareRule | None = None,
    severity: Severity | None = None,
    why: str | None = None,
    kind: IncidentKind | None = None,
    title: str | None = None,
) -> AlertDeclaration:
    """Fill the declaration template from ``alerts`` (at least one) routed to ``route``.

    detected_at is the earliest ``startsAt`` (never after ``now``), with the alert as its
    evidence; the title is alertname and service; the symptom is the first alert's
    summary; the scope lists the values of the policy's scope labels. With a ``rule`` the
    severity is the rule's, recorded as a policy override with the rule as its reason
    (no impact is measured yet); otherwise ``severity``/``why`` come from a person.
    """
    if not alerts:
        raise ValueError("a declaration from alerts needs at least one alert")
    ordered = sorted(alerts, key=lambda a: (a.starts_at is None, a.starts_at or now, a.fingerprint))
    first = ordered[0]
    # A start before 1970 (stored by an older version) is not a time anything happened.
    plausible = first.starts_at is not None and first.starts_at >= EARLIEST
    detected = min(first.starts_at, now) if plausible and first.starts_at is not None else now
    evidence = f"alert {first.name} ({first.source} {first.fingerprint}) startsAt"
    if not plausible:
        evidence = f"alert {first.name} ({first.source} {first.fingerprint}) received"
    services = [] if route.service == UNROUTED else [route.service]
    explanation = None
    if rule is not None:
        severity, kind = rule.severity, kind or rule.kind
        why = rule.reason(first.severity, route) + "; impact not measured yet"
        explanation = f"{severity}: {why}"
    declaration = Declaration(
        title=(title or _title(ordered, route))[:MAX_NAME],
        kind=kind or IncidentKind.AVAILABILITY,
        services=services,
        scope=_scope(ordered, policy.scope_labels),
        symptom=first.summary,
        severity=severity,
        why=why,
        detected_at=detected,
        detected_evidence=evidence,
    )
    note = None
    if route.ownership_unclear:
        team = route.team or "no fallback team"
        note = (
            f"ownership unclear: no catalog service matched alert {first.name} "
            f"({_labels_text(first.labels)}); routed to {team}"
        )
    return AlertDeclaration(declaration, explanation, note, tuple(ordered))


def _title(alerts: Sequence[AlertFacts], route: Route) -> str:
    names = list(dict.fromkeys(a.name for a in alerts))
    name = names[0] if len(names) == 1 else f"{names[0]} (+{len(names) - 1} more)"
    return name if route.service == UNROUTED else f"{name} on {route.service}"


MAX_SCOPE = 1000  # the declaration's scope limit


def _scope(alerts: Iterable[AlertFacts], labels: Sequence[str]) -> str:
    parts = []
    for label in labels:
        values = sorted({a.labels[label] for a in alerts if a.labels.get(label)})
        if values:
            parts.append(f"{label}: {', '.join(values)}")
    return "; ".join(parts)[:MAX_SCOPE]


def _parts(scope: str) -> list[tuple[str | None, list[str], str]]:
    """The scope's ``; `` parts as (label, values, text); label None for free text."""
    found: list[tuple[str | None, list[str], str]] = []
    for part in scope.split("; ") if scope.strip() else []:
        label, colon, values = part.partition(": ")
        if colon and label and " " not in label:
            found.append((label, [v for v in values.split(", ") if v], part))
        else:
            found.append((None, [], part))
    return found


def scope_event(
    state: IncidentState, alerts: Sequence[AlertFacts], labels: Sequence[str], *, now: datetime
) -> NewEvent | None:
    """``scope_widened`` when ``alerts`` name scope label values (``labels``: the policy's
    scope labels) that the incident's scope does not name yet; None when nothing is new.

    The new scope keeps the text as it was (a person may have written it) and adds each
    new value to its label's ``label: a, b`` part, or a new part at the end. ``added`` maps
    each label to its new values, ``alerts`` lists the fingerprints that named them."""
    parts = _parts(state.scope)
    named = {label: set(values) for label, values, _ in parts if label is not None}
    for label, values in state.scope_named.items():
        named.setdefault(label, set()).update(values)
    added: dict[str, list[str]] = {}
    by: set[str] = set()
    for label in labels:
        for alert in alerts:
            value = (alert.labels.get(label) or "").strip()
            if value and value not in named.get(label, set()):
                if value not in added.setdefault(label, []):
                    added[label].append(value)
                by.add(alert.fingerprint)
    added = {label: sorted(values) for label, values in added.items() if values}
    if not added:
        return None
    text: list[str] = []
    placed: set[str] = set()
    for name, values, part in parts:
        if name is not None and name in added and name not in placed:
            placed.add(name)
            text.append(f"{name}: {', '.join(sorted(set(values) | set(added[name])))}")
        else:
            text.append(part)
    text += [
        f"{label}: {', '.join(added[label])}" for label in labels if label in added and label not in placed
    ]
    scope = "; ".join(text)
    if len(scope) > MAX_SCOPE:
        scope = scope[: MAX_SCOPE - 1] + "…"
    payload = {"scope": scope, "added": added, "alerts": sorted(by), "before": state.scope}
    return NewEvent("scope_widened", payload, now)


def _labels_text(labels: Mapping[str, str]) -> str:
    text = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return "{" + (text[:300] + "..." if len(text) > 300 else text) + "}"


def declare_event(decl: AlertDeclaration, *, now: datetime, policy: ResponsePolicy) -> NewEvent:
    """The ``incident_declared`` event; a rule's severity is explained by the rule."""
    event = rules.declare(decl.declaration, now=now, policy=policy)
    if decl.explanation is not None and event.payload["override_why"] is not None:
        said = event.payload["explanation"].split("policy said ", 1)[-1]
        event.payload["explanation"] = f"{decl.explanation}; policy said {said}"
    return event


def attach_events(
    state: IncidentState,
    alerts: Sequence[AlertFacts],
    service: str,
    *,
    now: datetime,
    policy: ResponsePolicy,
    ownership_note: str | None = None,
    scope_labels: Sequence[str] = (),
) -> list[NewEvent]:
    """``alert_attached`` for each alert not yet on the incident, then ``scope_widened`` when
    they name more of ``scope_labels`` than the scope does, then the ownership fact."""
    rules.ensure_open(state, "attach alerts")
    events = []
    attached = []
    for alert in alerts:
        if alert.fingerprint in state.alerts and state.alerts[alert.fingerprint].status == "firing":
            continue
        attached.append(alert)
        payload = {
            "fingerprint": alert.fingerprint,
            "source": alert.source,
            "name": alert.name,
            "service": None if service == UNROUTED else service,
            "starts_at": iso(alert.starts_at) if alert.starts_at else None,
            "summary": alert.summary,
            "severity": alert.severity,
        }
        events.append(NewEvent("alert_attached", payload, now))
    widened = scope_event(state, attached, scope_labels, now=now)
    if widened is not None:
        events.append(widened)
    if ownership_note is not None:
        events += rules.record_fact(state, ownership_note, "alert routing", now=now, policy=policy)
    return events


def resolved_event(
    state: IncidentState, fingerprint: str, ended_at: datetime | None, *, now: datetime
) -> NewEvent | None:
    """``alert_resolved`` for an attached, still firing alert; None when nothing is to say."""
    link = state.alerts.get(fingerprint)
    if link is None or link.status != "firing" or state.status.value == "closed":
        return None
    ended = min(ended_at, now) if ended_at is not None else now
    return NewEvent("alert_resolved", {"fingerprint": fingerprint, "ended_at": iso(ended)}, ended)


def alert_name(labels: Mapping[str, str], summary: str) -> str:
    """The short name shown for an alert: its ``alertname`` label, else its summary."""
    return (labels.get("alertname") or summary).strip()[:MAX_NAME] or "alert"


def signal_facts(signal: AlertSignal) -> AlertFacts:
    return AlertFacts(
        signal.source,
        signal.fingerprint,
        alert_name(signal.labels, signal.summary),
        signal.summary,
        signal.severity,
        signal.labels,
        signal.starts_at,
    )
