"""Where an alert goes and what it sets off: routing, per-alert transitions, declaration rules.

Pure decisions, no I/O and no clock:

- :class:`Router` sends an alert's labels to the first catalog service whose matchers all
  match (then a ``service`` label naming a catalog service), and so to its team; an alert
  that matches nothing goes to the fallback team with ownership unclear.
- :func:`transition` compares one delivered :class:`AlertSignal` with what is stored about
  its fingerprint and says what changed (nothing, for a redelivery).
- :class:`AlertPolicy` holds the ``[[alerts.declare]]`` rules of ``warroom.toml``; the first
  rule matching a firing alert declares an incident (default: a critical alert on a tier-1
  service declares SEV2). :func:`declaration_for` fills the declaration template from the
  alerts: detected at their earliest ``startsAt``, title from alertname and service.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from warroom.domain.alerts.matchers import Matcher, MatcherSyntaxError, MatchType, matches_all, parse_matchers
from warroom.domain.alerts.signals import SEVERITIES, AlertSignal
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents.catalog import Catalog
from warroom.domain.incidents.commands import Declaration
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.policy import ResponsePolicy
from warroom.domain.incidents.severity import IncidentKind, Severity
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.errors import ValidationError
from warroom.domain.shared.timefmt import iso

UNROUTED = "(unrouted)"
"""The service group of alerts that match no catalog service and carry no ``service`` label."""

MAX_NAME = 200


class AlertPolicyError(ValueError):
    """A wrong ``[alerts]`` setting or catalog matcher; the message names the key."""


@dataclass(frozen=True, slots=True)
class Route:
    """Where an alert belongs: ``service`` is a catalog service when ``matched``, else the
    alert's own ``service`` label, else :data:`UNROUTED`; ``team`` is then the fallback."""

    service: str
    team: str | None
    tier: int | None
    matched: bool

    @property
    def ownership_unclear(self) -> bool:
        return not self.matched


class Router:
    """Routes label sets with the catalog's matchers, compiled once here.

    Raises :class:`AlertPolicyError` naming the service whose matcher does not parse.
    Services without matchers are reached only through the ``service`` label.
    """

    def __init__(self, catalog: Catalog) -> None:
        compiled: list[tuple[str, str, int, tuple[Matcher, ...]]] = []
        for service in catalog.services:
            matchers: list[Matcher] = []
            for index, text in enumerate(service.matchers):
                try:
                    matchers.extend(parse_matchers(text))
                except MatcherSyntaxError as error:
                    raise AlertPolicyError(
                        f"catalog: services[{service.name}].matchers[{index}]: {error}"
                    ) from None
            if matchers:
                compiled.append((service.name, service.team, service.tier, tuple(matchers)))
        self._compiled = tuple(compiled)
        # An index on one equality matcher per service, so an alert is checked against the
        # few services it can match instead of the whole catalog (order is kept).
        self._keyed: dict[tuple[str, str], list[int]] = {}
        self._unkeyed: list[int] = []
        for position, (*_, conditions) in enumerate(compiled):
            key = next(((m.name, m.value) for m in conditions if m.type is MatchType.EQUAL), None)
            if key is None:
                self._unkeyed.append(position)
            else:
                self._keyed.setdefault(key, []).append(position)
        self._key_names = tuple(sorted({name for name, _ in self._keyed}))
        self._by_name = {s.name: (s.team, s.tier) for s in catalog.services}
        fallback = catalog.fallback_team
        self._fallback = fallback.name if fallback is not None else None

    def route(self, labels: Mapping[str, str]) -> Route:
        candidates = list(self._unkeyed)
        for label in self._key_names:
            candidates += self._keyed.get((label, labels.get(label, "")), ())
        for position in sorted(candidates):
            name, team, tier, matchers = self._compiled[position]
            if matches_all(matchers, labels):
                return Route(name, team, tier, True)
        label = labels.get("service", "").strip()
        if label in self._by_name:
            team, tier = self._by_name[label]
            return Route(label, team, tier, True)
        return Route(label[:100] or UNROUTED, self._fallback, None, False)


# --- per-alert transitions -------------------------------------------------------------


class Outcome(StrEnum):
    """What one delivered signal does to the stored alert with its fingerprint."""

    NEW_FIRING = "new_firing"
    NEW_RESOLVED = "new_resolved"
    RESOLVED = "resolved"
    REFIRED = "refired"
    ACKNOWLEDGED = "acknowledged"
    UNCHANGED = "unchanged"

    @property
    def fires(self) -> bool:
        """The alert (re)starts firing: routing and incident work follow."""
        return self in (Outcome.NEW_FIRING, Outcome.REFIRED)

    @property
    def writes(self) -> bool:
        return self is not Outcome.UNCHANGED


@dataclass(frozen=True, slots=True)
class Known:
    """What storage knows of one alert, enough to decide a transition."""

    id: int
    status: str
    service: str
    starts_at: datetime | None
    incident: int | None
    acknowledged: bool


def transition(known: Known | None, signal: AlertSignal) -> Outcome:
    """Compare a delivered signal with the stored alert of its fingerprint.

    A redelivery, the same notification from a second Alertmanager, or a late copy of an
    older episode (its ``startsAt`` not after the stored one) changes nothing. A firing
    signal after the alert resolved re-opens it when it starts later (PagerDuty: any
    ``trigger``). PagerDuty ``acknowledge`` and ``resolve`` for an unknown or resolved key
    are dropped, as PagerDuty drops them.
    """
    action = signal.extra.get("event_action") if signal.source == "pagerduty" else None
    if known is None:
        if action in ("acknowledge", "resolve") or not signal.labels:
            return Outcome.UNCHANGED
        return Outcome.NEW_FIRING if signal.status == "firing" else Outcome.NEW_RESOLVED
    if known.status == "firing":
        if signal.status == "resolved":
            return Outcome.UNCHANGED if _older(signal, known) else Outcome.RESOLVED
        if action == "acknowledge" and not known.acknowledged:
            return Outcome.ACKNOWLEDGED
        return Outcome.UNCHANGED
    if signal.status == "resolved" or action in ("acknowledge", "resolve"):
        return Outcome.UNCHANGED
    if action == "trigger":
        return Outcome.REFIRED
    if signal.starts_at is not None and known.starts_at is not None and signal.starts_at <= known.starts_at:
        return Outcome.UNCHANGED
    return Outcome.REFIRED


def _older(signal: AlertSignal, known: Known) -> bool:
    """The signal reports an episode that started before the stored one."""
    return signal.starts_at is not None and known.starts_at is not None and signal.starts_at < known.starts_at


def alert_name(labels: Mapping[str, str], summary: str) -> str:
    """The short name shown for an alert: its ``alertname`` label, else its summary."""
    return (labels.get("alertname") or summary).strip()[:MAX_NAME] or "alert"


# --- declaration rules -----------------------------------------------------------------


@dataclass(frozen=True)
class DeclareRule:
    """One ``[[alerts.declare]]`` rule: which firing alerts declare, and as what.

    All given conditions must hold: ``matchers`` on the labels, ``alert_severities`` on the
    normalized alert severity, ``max_tier`` on the routed service's tier (1 is the most
    critical; a rule with a tier never matches an alert outside the catalog).
    """

    name: str
    severity: Severity
    kind: IncidentKind = IncidentKind.AVAILABILITY
    matchers: tuple[Matcher, ...] = ()
    alert_severities: tuple[str, ...] = ()
    max_tier: int | None = None

    def matches(self, labels: Mapping[str, str], severity: str | None, route: Route) -> bool:
        if self.alert_severities and severity not in self.alert_severities:
            return False
        if self.max_tier is not None and (route.tier is None or route.tier > self.max_tier):
            return False
        return matches_all(self.matchers, labels)

    def reason(self, severity: str | None, route: Route) -> str:
        what = f"{severity} alert" if severity else "alert"
        where = f"tier-{route.tier} service {route.service}" if route.tier else f"service {route.service}"
        return f"alert policy rule '{self.name}': {what} on {where}"


DEFAULT_RULES = (
    DeclareRule(
        name="critical on a tier-1 service",
        severity=Severity.SEV2,
        alert_severities=("critical",),
        max_tier=1,
    ),
)
DEFAULT_SCOPE_LABELS = ("region", "route")


@dataclass(frozen=True)
class AlertPolicy:
    """The declaration rules (first match wins) and the labels that make up the scope."""

    rules: tuple[DeclareRule, ...] = DEFAULT_RULES
    scope_labels: tuple[str, ...] = DEFAULT_SCOPE_LABELS

    def rule_for(self, labels: Mapping[str, str], severity: str | None, route: Route) -> DeclareRule | None:
        for rule in self.rules:
            if rule.matches(labels, severity, route):
                return rule
        return None


def policy_from_config(section: Mapping[str, Any]) -> AlertPolicy:
    """The policy of the ``[alerts]`` table of ``warroom.toml``; defaults when it is empty.

    Raises :class:`AlertPolicyError` naming the key, e.g. ``alerts.declare[0].severity``.
    """
    scope = section.get("scope_labels", list(DEFAULT_SCOPE_LABELS))
    if not isinstance(scope, list) or not all(isinstance(s, str) and s for s in scope):
        raise AlertPolicyError("alerts.scope_labels must be a list of label names")
    raw_rules = section.get("declare")
    if raw_rules is None:
        return AlertPolicy(scope_labels=tuple(scope))
    if not isinstance(raw_rules, list):
        raise AlertPolicyError("alerts.declare must be an array of tables ([[alerts.declare]])")
    rules = tuple(_rule(raw, f"alerts.declare[{index}]") for index, raw in enumerate(raw_rules))
    return AlertPolicy(rules=rules, scope_labels=tuple(scope))


_RULE_KEYS = frozenset({"name", "severity", "kind", "matchers", "alert_severity", "tier"})


def _rule(raw: object, where: str) -> DeclareRule:
    if not isinstance(raw, Mapping):
        raise AlertPolicyError(f"{where} must be a table")
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise AlertPolicyError(
            f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_RULE_KEYS))})"
        )
    try:
        severity = Severity.parse(str(raw.get("severity", "")))
    except ValidationError as error:
        raise AlertPolicyError(f"{where}.severity: {error.detail}") from None
    kind_text = str(raw.get("kind", "availability"))
    try:
        kind = IncidentKind(kind_text)
    except ValueError:
        allowed = ", ".join(k.value for k in IncidentKind)
        raise AlertPolicyError(f"{where}.kind: {kind_text!r} is not one of {allowed}") from None
    matchers: list[Matcher] = []
    for index, text in enumerate(_strings(raw.get("matchers", []), f"{where}.matchers")):
        try:
            matchers.extend(parse_matchers(text))
        except MatcherSyntaxError as error:
            raise AlertPolicyError(f"{where}.matchers[{index}]: {error}") from None
    severities = _strings(raw.get("alert_severity", []), f"{where}.alert_severity")
    for value in severities:
        if value not in SEVERITIES:
            raise AlertPolicyError(f"{where}.alert_severity: {value!r} is not one of {', '.join(SEVERITIES)}")
    tier = raw.get("tier")
    if tier is not None and (isinstance(tier, bool) or not isinstance(tier, int) or not 1 <= tier <= 4):
        raise AlertPolicyError(f"{where}.tier must be a whole number from 1 to 4")
    name = raw.get("name") or f"rule {where.rsplit('[', 1)[-1].rstrip(']')}"
    return DeclareRule(
        name=str(name)[:MAX_NAME],
        severity=severity,
        kind=kind,
        matchers=tuple(matchers),
        alert_severities=tuple(severities),
        max_tier=tier,
    )


def _strings(value: object, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise AlertPolicyError(f"{where} must be a string or a list of strings")


# --- declaring from alerts -------------------------------------------------------------


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
    detected = min(first.starts_at, now) if first.starts_at is not None else now
    evidence = f"alert {first.name} ({first.source} {first.fingerprint}) startsAt"
    if first.starts_at is None:
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


def _scope(alerts: Iterable[AlertFacts], labels: Sequence[str]) -> str:
    parts = []
    for label in labels:
        values = sorted({a.labels[label] for a in alerts if a.labels.get(label)})
        if values:
            parts.append(f"{label}: {', '.join(values)}")
    return "; ".join(parts)[:1000]


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
) -> list[NewEvent]:
    """``alert_attached`` for each alert not yet on the incident, then the ownership fact."""
    rules.ensure_open(state, "attach alerts")
    events = []
    for alert in alerts:
        if alert.fingerprint in state.alerts and state.alerts[alert.fingerprint].status == "firing":
            continue
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


# --- stored alerts, as the triage queue shows them -------------------------------------


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One stored alert (one per source and fingerprint) with its current state."""

    id: int
    source: str
    fingerprint: str
    status: str
    name: str
    summary: str
    severity: str | None
    service: str
    team: str | None
    ownership_unclear: bool
    labels: Mapping[str, str]
    starts_at: datetime | None
    ends_at: datetime | None
    incident: int | None
    first_seen_at: datetime
    changed_at: datetime
    acknowledged_at: datetime | None = None
    group_key: str | None = None

    def facts(self) -> AlertFacts:
        return AlertFacts(
            self.source, self.fingerprint, self.name, self.summary, self.severity, self.labels, self.starts_at
        )

    @property
    def route(self) -> Route:
        return Route(self.service, self.team, None, not self.ownership_unclear)


@dataclass(frozen=True, slots=True)
class Silence:
    """A service's signals kept out of the queue (and from declaring) until ``until``."""

    service: str
    until: datetime
    reason: str
    actor: str
    created_at: datetime


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
