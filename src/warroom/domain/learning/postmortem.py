"""The structured postmortem: a draft built from the incident, sections people write.

A :class:`Postmortem` has two halves.

- **Drawn from the incident** (rebuilt by every draft, never edited): the summary's
  suggestion, the impact with its separate customer, financial and data-integrity
  dimensions and any measured impact, the key times and the durations between them, the
  factual timeline (:mod:`warroom.domain.learning.timeline`), and *prompts*: questions
  the evidence raises (an alert that started after the impact, an irreversible decision,
  a mitigation that did not work).
- **Written by people** (kept across drafts): the summary, impact notes, the trigger,
  contributing factors each with a type, the root-cause chain (ordered, first cause
  first), what went well, which decisions were hard, which signals were late and which
  tooling failed.

Durations follow the reliability review (``domain/learning/durations.py``): detect = detected -
impact start, declare = declared - detected, acknowledge = acknowledged - declared,
mitigate and resolve from the impact start (detection when the start is unknown). So a
postmortem and the report never disagree about the same incident.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from warroom.domain.incidents.events import Event
from warroom.domain.incidents.state import IncidentState
from warroom.domain.learning.timeline import TimelineEntry, factual_timeline
from warroom.domain.shared.errors import ValidationError
from warroom.domain.shared.serial import from_data, to_data
from warroom.domain.shared.text import optional_text
from warroom.domain.shared.timefmt import human_duration

FACTOR_TYPES = ("detection", "process", "tooling", "change", "capacity", "dependency", "other")
KEY_TIMES = ("impact_started", "detected", "declared", "acknowledged", "mitigated", "resolved", "closed")
DURATIONS = (
    "time_to_detect",
    "time_to_declare",
    "time_to_acknowledge",
    "time_to_mitigate",
    "time_to_resolve",
)
LIST_SECTIONS = ("root_cause_chain", "went_well", "hard_decisions", "late_signals", "tooling_failures")
TEXT_SECTIONS = ("summary", "impact_notes", "trigger")
EDITABLE = (*TEXT_SECTIONS, "contributing_factors", *LIST_SECTIONS)
GENERATED = (
    "incident",
    "title",
    "severity",
    "kind",
    "services",
    "incident_status",
    "drafted_at",
    "suggested_summary",
    "impact",
    "key_times",
    "durations",
    "timeline",
    "prompts",
)
MAX_ITEMS = 50
TEXT_LIMIT = 4000
LATE_DECLARATION_SECONDS = 15 * 60


@dataclass(frozen=True)
class Factor:
    """A contributing factor: a condition that made the incident possible or worse."""

    type: str
    text: str


@dataclass(frozen=True)
class ImpactSection:
    """Impact as recorded: duration and scope, then each dimension on its own."""

    started_at: datetime | None
    ended_at: datetime | None
    duration_seconds: float | None
    scope: str
    services: list[str]
    customer_share: float | None
    critical_journey: str | None
    financial_per_hour: float | None
    financial_estimate: float | None
    data_integrity: str
    data_verified: bool
    security: str
    measured: dict[str, Any] | None = None


@dataclass(frozen=True)
class Postmortem:
    incident: int
    title: str
    severity: str
    kind: str
    services: list[str]
    incident_status: str
    drafted_at: datetime
    suggested_summary: str
    impact: ImpactSection
    key_times: dict[str, datetime | None]
    durations: dict[str, float | None]
    timeline: list[TimelineEntry]
    prompts: list[str]
    summary: str = ""
    impact_notes: str = ""
    trigger: str = ""
    contributing_factors: list[Factor] = field(default_factory=list)
    root_cause_chain: list[str] = field(default_factory=list)
    went_well: list[str] = field(default_factory=list)
    hard_decisions: list[str] = field(default_factory=list)
    late_signals: list[str] = field(default_factory=list)
    tooling_failures: list[str] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"INC-{self.incident}"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = to_data(self)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Postmortem:
        return from_data(cls, dict(data))

    def human_sections(self) -> dict[str, Any]:
        """The sections people write, as plain data (what ``edit`` reads and writes)."""
        return {name: to_data(getattr(self, name)) for name in EDITABLE}

    def lint_sections(self) -> dict[str, str | list[str]]:
        """What the blameless lint reads: every section people wrote (the timeline is
        the responders' own record and cannot be rewritten, so it is not linted)."""
        return {
            "summary": self.summary,
            "impact_notes": self.impact_notes,
            "trigger": self.trigger,
            "contributing_factors": [factor.text for factor in self.contributing_factors],
            **{name: list(getattr(self, name)) for name in LIST_SECTIONS},
        }


# --- drafting ---------------------------------------------------------------------------


def _key_times(state: IncidentState) -> dict[str, datetime | None]:
    return {name: state.at(f"{name}_at") for name in KEY_TIMES}


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None or end < start:
        return None
    return (end - start).total_seconds()


def durations(times: Mapping[str, datetime | None]) -> dict[str, float | None]:
    """Seconds between the key times (None where an end is unknown or they contradict)."""
    start = times["impact_started"] or times["detected"]
    return {
        "time_to_detect": _seconds(times["impact_started"], times["detected"]),
        "time_to_declare": _seconds(times["detected"], times["declared"]),
        "time_to_acknowledge": _seconds(times["declared"], times["acknowledged"]),
        "time_to_mitigate": _seconds(start, times["mitigated"]),
        "time_to_resolve": _seconds(start, times["resolved"]),
    }


def _impact(state: IncidentState, times: Mapping[str, datetime | None]) -> ImpactSection:
    started = times["impact_started"] or times["detected"]
    ended = times["resolved"] or times["mitigated"]
    seconds = _seconds(started, ended)
    per_hour = state.impact.financial_per_hour
    estimate = None if per_hour is None or seconds is None else round(per_hour * seconds / 3600, 2)
    return ImpactSection(
        started_at=started,
        ended_at=ended,
        duration_seconds=seconds,
        scope=state.scope,
        services=list(state.services),
        customer_share=state.impact.customer_share,
        critical_journey=state.impact.critical_journey,
        financial_per_hour=per_hour,
        financial_estimate=estimate,
        data_integrity=state.impact.data_integrity.value,
        data_verified=bool(state.resolution and state.resolution.get("data_verified")),
        security=state.impact.security.value,
        measured=_measured(state.measured),
    )


MEASURED_KEYS = (
    "measured_at",
    "summary",
    "status",
    "customer_share",
    "financial_per_hour",
    "severity",
    "left_slo_at",
)


def _measured(payload: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The impact probe's last measurement, without every indicator reading."""
    if not payload:
        return None
    return {key: payload[key] for key in MEASURED_KEYS if payload.get(key) is not None}


def _suggested_summary(state: IncidentState, impact: ImpactSection) -> str:
    services = ", ".join(state.services) or "no named service"
    text = f"{state.severity} {state.kind.value.replace('_', ' ')} incident on {services}: {state.title}."
    if impact.duration_seconds is not None:
        text += f" User impact lasted {human_duration_seconds(impact.duration_seconds)}."
    if state.impact.customer_share is not None:
        text += f" About {state.impact.customer_share * 100:.3g}% of customers or requests were affected."
    if state.resolution:
        text += f" Resolution: {state.resolution.get('summary', '')}"
    return text.strip()


def human_duration_seconds(seconds: float) -> str:
    return human_duration(timedelta(seconds=seconds))


def _prompts(state: IncidentState, times: Mapping[str, datetime | None]) -> list[str]:
    """Questions the evidence raises, to help people write the human sections."""
    prompts: list[str] = []
    impact, detected, declared = times["impact_started"], times["detected"], times["declared"]
    if impact and detected and detected > impact:
        prompts.append(
            f"late signals: detection came {human_duration(detected - impact)} after impact started; "
            "which signal could have shown it sooner?"
        )
    if detected and declared and (declared - detected).total_seconds() > LATE_DECLARATION_SECONDS:
        prompts.append(
            f"hard decisions: declaring took {human_duration(declared - detected)} after detection; "
            "what made the call hard?"
        )
    start = impact or detected
    for link in state.alerts.values():
        if start and link.starts_at and link.starts_at > start:
            prompts.append(
                f"late signals: alert {link.name} started {human_duration(link.starts_at - start)} "
                "after impact started"
            )
    for decision in state.decisions:
        if not decision.reversible:
            prompts.append(f"hard decisions: {decision.ref} '{decision.text}' could not be undone")
        elif decision.alternatives:
            prompts.append(
                f"hard decisions: {decision.ref} '{decision.text}' was chosen over "
                f"{len(decision.alternatives)} alternative(s)"
            )
    for item in state.mitigations:
        if item.state in ("ineffective", "worse", "inconclusive", "reverted"):
            prompts.append(f"tooling failures: mitigation {item.ref} '{item.title}' was {item.state}")
        elif item.state == "effective" and item.applied_at and item.outcome_at:
            prompts.append(
                f"went well: mitigation {item.ref} '{item.title}' was verified effective "
                f"{human_duration(item.outcome_at - item.applied_at)} after it was applied"
            )
    return prompts


def draft(
    state: IncidentState, events: Iterable[Event], *, now: datetime, previous: Postmortem | None = None
) -> Postmortem:
    """Build the postmortem of ``state`` from its ``events`` (in sequence order).

    With a ``previous`` postmortem the sections people wrote are kept and only what is
    drawn from the incident is rebuilt; a summary nobody changed follows the new
    suggestion.
    """
    times = _key_times(state)
    impact = _impact(state, times)
    suggested = _suggested_summary(state, impact)
    built = Postmortem(
        incident=state.number,
        title=state.title,
        severity=state.severity.name,
        kind=state.kind.value,
        services=list(state.services),
        incident_status=state.status.value,
        drafted_at=now,
        suggested_summary=suggested,
        impact=impact,
        key_times=times,
        durations=durations(times),
        timeline=factual_timeline(events),
        prompts=_prompts(state, times),
        summary=suggested,
        trigger=state.trigger,
    )
    if previous is None:
        return built
    kept = {name: getattr(previous, name) for name in EDITABLE}
    if previous.summary == previous.suggested_summary:
        kept["summary"] = suggested
    if not previous.trigger:
        kept["trigger"] = state.trigger
    return replace(built, **kept)


# --- editing ----------------------------------------------------------------------------


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(name, "must be text")
    return optional_text(value, name, limit=TEXT_LIMIT)


def _texts(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ValidationError(name, "must be a list of texts")
    if len(value) > MAX_ITEMS:
        raise ValidationError(name, f"has {len(value)} items; at most {MAX_ITEMS}")
    items = [_text(item, f"{name}[{index}]") for index, item in enumerate(value)]
    return [item for item in items if item]


def parse_factor(value: Any, name: str) -> Factor:
    """``{"type": "change", "text": ...}`` or the shorthand ``"change: ..."``."""
    if isinstance(value, str):
        kind, sep, text = value.partition(":")
        if not sep:
            raise ValidationError(
                name, f"write it as 'TYPE: text' with TYPE one of {', '.join(FACTOR_TYPES)}"
            )
        value = {"type": kind, "text": text}
    if not isinstance(value, Mapping):
        raise ValidationError(name, "must be {type, text}")
    unknown = sorted(set(value) - {"type", "text"})
    if unknown:
        raise ValidationError(f"{name}.{unknown[0]}", "is not a field of a contributing factor (type, text)")
    kind = str(value.get("type") or "").strip().lower()
    if kind not in FACTOR_TYPES:
        raise ValidationError(f"{name}.type", f"{kind!r} is not one of {', '.join(FACTOR_TYPES)}")
    text = _text(value.get("text"), f"{name}.text")
    if not text:
        raise ValidationError(f"{name}.text", "is empty")
    return Factor(kind, text)


def edit(doc: Postmortem, changes: Mapping[str, Any]) -> Postmortem:
    """``doc`` with the sections in ``changes`` replaced (absent sections are kept).

    Sections drawn from the incident may be present (a shown document edited and fed
    back) and are ignored; any other key is refused, naming it.
    """
    updates: dict[str, Any] = {}
    for name, value in changes.items():
        if name in GENERATED:
            continue
        if name in TEXT_SECTIONS:
            updates[name] = _text(value, name)
        elif name in LIST_SECTIONS:
            updates[name] = _texts(value, name)
        elif name == "contributing_factors":
            items = [] if value is None else value
            if not isinstance(items, list):
                raise ValidationError(name, "must be a list of {type, text}")
            if len(items) > MAX_ITEMS:
                raise ValidationError(name, f"has {len(items)} items; at most {MAX_ITEMS}")
            updates[name] = [parse_factor(item, f"{name}[{index}]") for index, item in enumerate(items)]
        else:
            raise ValidationError(
                name, f"is not a postmortem section; sections people write: {', '.join(EDITABLE)}"
            )
    return replace(doc, **updates)


def missing_sections(doc: Postmortem) -> list[str]:
    """What a postmortem needs before it is published: the trigger, contributing factors
    and the root-cause chain kept apart, and a summary."""
    missing: list[str] = []
    if not doc.summary.strip():
        missing.append("summary")
    if not doc.trigger.strip():
        missing.append("trigger")
    if not doc.contributing_factors:
        missing.append("contributing_factors")
    if not doc.root_cause_chain:
        missing.append("root_cause_chain")
    return missing


def factor_types(doc: Postmortem) -> list[str]:
    """The distinct contributing-factor types, in the order first written."""
    return list(dict.fromkeys(factor.type for factor in doc.contributing_factors))
