"""The declaration rules: which firing alerts declare an incident, and as what.

Pure decisions, no I/O and no clock. :class:`AlertPolicy` holds the ``[[alerts.declare]]``
rules of ``warroom.toml`` and the labels that make up an incident's scope; the first rule
matching a firing alert (:meth:`AlertPolicy.rule_for`) declares an incident (default: a
critical alert on a tier-1 service declares SEV2). :func:`policy_from_config` reads the
``[alerts]`` table and raises :class:`~warroom.domain.alerts.routing.AlertPolicyError`
naming the wrong key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from warroom.domain.alerts.matchers import Matcher, MatcherSyntaxError, matches_all, parse_matchers
from warroom.domain.alerts.routing import AlertPolicyError, Route
from warroom.domain.alerts.signals import SEVERITIES
from warroom.domain.incidents.severity import IncidentKind, Severity
from warroom.domain.shared.errors import ValidationError

MAX_NAME = 200


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
