"""What the impact probe concludes from a reading: did a mitigation work, may we resolve.

Pure, like ``probe``: the readings come in, verdicts and refusals go out. Traffic
indicators weigh the others but are never judged themselves: a traffic shift that
empties a region is the mitigation working, not a second incident.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from warroom.domain.impact.analysis import judge_mitigation, mean_over
from warroom.domain.impact.probe import TINY, ProbePolicy, Reading, finite, format_value, worse_by
from warroom.domain.impact.series import MitigationOutcome, MitigationVerdict, TimeSeries
from warroom.domain.incidents.state import IncidentState, Mitigation
from warroom.domain.shared.errors import InvalidTransition, ValidationError
from warroom.domain.shared.timefmt import human_duration, iso


@dataclass(frozen=True)
class MitigationCheck:
    """The probe's verdict on one mitigation, with the numbers of the slice that decided it."""

    ref: str
    verdict: MitigationVerdict
    before: float | None
    after: float | None
    note: str
    details: dict[str, Any]


@dataclass(frozen=True)
class _Candidate:
    service: str
    indicator: str
    slice: str
    outcome: MitigationOutcome
    reading: Reading

    @property
    def breach_before(self) -> float | None:
        if self.outcome.before is None:
            return None
        return worse_by(self.outcome.before, self.outcome.slo, self.reading.indicator.higher_is_worse)

    def describe(self) -> str:
        ind = self.reading.indicator
        where = "" if self.slice == "all" else f" {self.slice}"
        change = f"{format_value(ind, self.outcome.before)} -> {format_value(ind, self.outcome.after)}"
        return f"{self.service} {ind.name}{where} {change} ({self.outcome.reason})"

    def record(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "indicator": self.indicator,
            "slice": self.slice,
            "verdict": self.outcome.verdict,
            "before": finite(self.outcome.before),
            "after": finite(self.outcome.after),
            "improvement_share": finite(self.outcome.improvement_share),
            "reason": self.outcome.reason,
        }


_CONDITION = re.compile(
    r"^(?P<query>.*\S)\s*(?P<op><=|>=|<|>)\s*(?P<value>[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*$", re.S
)


@dataclass(frozen=True)
class Verification:
    """A mitigation's own verification query, as its playbook wrote it.

    A trailing comparison states the healthy condition: ``<query> < 0.01`` is healthy
    below 1%, ``<query> > 0.99`` above 99%; the comparison is not sent to Prometheus
    (where it would drop the unhealthy samples). Without one, the query measures the
    symptom and lower is better: the mitigation must cut it by the probe's
    ``min_improvement_share``."""

    query: str
    threshold: float | None = None
    healthy_below: bool = True

    @classmethod
    def parse(cls, text: str) -> Verification:
        written = " ".join(text.split())
        found = _CONDITION.match(written)
        if found is None:
            return cls(written)
        value = float(found.group("value"))
        return cls(found.group("query"), value, found.group("op").startswith("<"))

    def describe(self) -> str:
        if self.threshold is None:
            return "lower is better"
        return f"healthy {'below' if self.healthy_below else 'above'} {self.threshold:g}"


@dataclass(frozen=True)
class VerificationReading:
    """What Prometheus answered to a mitigation's verification query (or why not)."""

    verification: Verification
    points: TimeSeries = ()
    error: str | None = None


def judge_verification(
    mitigation: Mitigation, reading: VerificationReading, *, now: datetime, policy: ProbePolicy
) -> MitigationOutcome:
    """The verification query before the mitigation against after its effect (the same
    windows as :func:`judge`)."""
    assert mitigation.applied_at is not None, "judge an applied mitigation"
    check = reading.verification
    before, after = _before_after(reading.points, mitigation.applied_at, now, policy)
    if check.threshold is None and before is not None and before <= 0:
        return MitigationOutcome("inconclusive", before, after, 0.0, None, "it read 0 before: nothing to cut")
    return judge_mitigation(
        before,
        after,
        slo=check.threshold if check.threshold is not None else 0.0,
        min_improvement_share=policy.min_improvement_share,
        higher_is_worse=check.healthy_below,
    )


def _before_after(
    points: TimeSeries, applied: datetime, now: datetime, policy: ProbePolicy
) -> tuple[float | None, float | None]:
    """The mean over ``verdict_window`` up to the moment it was applied, and the mean over
    the window up to ``now`` (never reaching back before it was applied)."""
    before = mean_over(points, applied - policy.verdict_window, applied)
    after = mean_over(points, max(applied, now - policy.verdict_window), now + TINY)
    return before, after


def _verification_record(reading: VerificationReading, outcome: MitigationOutcome | None) -> dict[str, Any]:
    check = reading.verification
    record: dict[str, Any] = {"query": check.query, "condition": check.describe(), "error": reading.error}
    if outcome is not None:
        record |= {
            "verdict": outcome.verdict,
            "before": finite(outcome.before),
            "after": finite(outcome.after),
            "reason": outcome.reason,
        }
    return record


def _series(reading: Reading) -> list[tuple[str, TimeSeries]]:
    found: list[tuple[str, TimeSeries]] = [("all", reading.series.overall)]
    for slices in reading.series.splits.values():
        found += list(slices.items())
    return found


def judge(
    mitigation: Mitigation,
    readings: Sequence[Reading],
    *,
    now: datetime,
    policy: ProbePolicy,
    verification: VerificationReading | None = None,
) -> MitigationCheck:
    """Compare each indicator (and each slice) before the mitigation with after its effect.

    Before: the mean over ``verdict_window`` up to the moment it was applied. After: the
    mean over the ``verdict_window`` up to ``now`` (never reaching back before it was
    applied). The target is the worst SLO breach before; the verdict is "worse" when
    anything breaches that did not before (or the target's breach grew), otherwise the
    target's verdict. Nothing breaching before leaves nothing to judge: "inconclusive".

    A mitigation's own ``verification`` query, when it was read, is the target instead:
    the playbook's author said what "it worked" means. The service indicators still make
    it "worse" when something breaches that did not before.
    """
    checked = _judge_indicators(mitigation, readings, now=now, policy=policy)
    if verification is None:
        return checked
    details = checked.details | {"verification": _verification_record(verification, None)}
    if verification.error is not None:
        note = f"{checked.note}; its verification query could not be read: {verification.error}"
        return MitigationCheck(checked.ref, checked.verdict, checked.before, checked.after, note, details)
    outcome = judge_verification(mitigation, verification, now=now, policy=policy)
    details["verification"] = _verification_record(verification, outcome)
    verdict: MitigationVerdict = outcome.verdict
    change = f"{_number(outcome.before)} -> {_number(outcome.after)}"
    parts = [f"verification query {change} ({verification.verification.describe()}: {outcome.reason})"]
    widened = details.get("widened") or []
    if widened and verdict != "inconclusive":
        verdict = "worse"
        parts += [f"but {w['service']} {w['indicator']} {w['slice']} got worse" for w in widened[:3]]
    return MitigationCheck(
        checked.ref, verdict, finite(outcome.before), finite(outcome.after), "; ".join(parts), details
    )


def _number(value: float | None) -> str:
    return "no data" if value is None or finite(value) is None else f"{value:.4g}"


def _judge_indicators(
    mitigation: Mitigation, readings: Sequence[Reading], *, now: datetime, policy: ProbePolicy
) -> MitigationCheck:
    assert mitigation.applied_at is not None, "judge an applied mitigation"
    applied = mitigation.applied_at
    candidates: list[_Candidate] = []
    for reading in readings:
        ind = reading.indicator
        if ind.kind == "traffic" or reading.record.get("status") == "error":
            continue
        for name, points in _series(reading):
            before, after = _before_after(points, applied, now, policy)
            outcome = judge_mitigation(
                before,
                after,
                slo=ind.slo,
                min_improvement_share=policy.min_improvement_share,
                higher_is_worse=ind.higher_is_worse,
            )
            candidates.append(_Candidate(reading.series.service, ind.name, name, outcome, reading))
    breaching = [c for c in candidates if (c.breach_before or 0.0) > 0]
    target = max(breaching, key=lambda c: c.breach_before or 0.0, default=None)
    widened = [c for c in candidates if c.outcome.verdict == "worse" and c is not target]
    details: dict[str, Any] = {
        "checked_at": iso(now),
        "applied_at": iso(applied),
        "window_seconds": policy.verdict_window.total_seconds(),
        "target": target.record() if target else None,
        "widened": [c.record() for c in widened],
        "breaching_before": [c.record() for c in breaching],
    }
    if target is None:
        verdict: MitigationVerdict = "inconclusive"
        if not candidates:
            note = "no indicator to judge it by"
        elif all(c.outcome.verdict == "inconclusive" for c in candidates):
            note = "no data before or after it was applied"
        else:
            note = "no indicator breached its SLO before it was applied: nothing to judge"
        if widened:
            verdict, note = "worse", "; ".join(c.describe() for c in widened[:3])
        return MitigationCheck(mitigation.ref, verdict, None, None, note, details)
    verdict = target.outcome.verdict
    parts = [target.describe()]
    if widened and verdict != "inconclusive":
        verdict = "worse"
        parts += [f"but {c.describe()}" for c in widened[:3]]
    still = [c for c in breaching if c is not target and c.outcome.verdict not in ("effective",)]
    if verdict == "effective" and still:
        parts += [f"still: {c.describe()}" for c in still[:2]]
    return MitigationCheck(
        mitigation.ref,
        verdict,
        finite(target.outcome.before),
        finite(target.outcome.after),
        "; ".join(parts),
        details,
    )


def due_at(mitigation: Mitigation) -> datetime | None:
    """When the mitigation's expected time to effect has passed."""
    if mitigation.applied_at is None:
        return None
    return mitigation.applied_at + timedelta(minutes=mitigation.expected_minutes)


def awaiting_check(state: IncidentState, now: datetime) -> list[Mitigation]:
    """Applied mitigations, not yet judged, whose expected time to effect has passed."""
    return [
        m for m in state.mitigations if m.state == "applied" and (due := due_at(m)) is not None and due <= now
    ]


# --- the resolve gate -------------------------------------------------------------------


def off_baseline(readings: Sequence[Reading], *, now: datetime, window: timedelta) -> list[str]:
    """Why the indicators have not been back at baseline for ``window``; empty when they have.

    Every point of the last ``window``, of every indicator and every slice, must be
    within the indicator's threshold of its baseline (within the SLO where no baseline
    was found). Fewer than two points in the window cannot show that.
    """
    problems: list[str] = []
    start = now - window
    for reading in readings:
        ind = reading.indicator
        if ind.kind == "traffic":
            continue
        service = reading.series.service
        if reading.record.get("status") == "error":
            problems.append(f"{service} {ind.name} cannot be read: {reading.record['error']}")
            continue
        if not reading.measured or reading.reference is None:
            problems.append(f"{service} {ind.name} has no data")
            continue
        for name, points in _series(reading):
            reference = reading.reference if name == "all" else reading.slice_reference.get(name)
            if reference is None:
                continue
            recent = sorted(p for p in points if start <= p[0] <= now and p[1] == p[1])
            where = "" if name == "all" else f" {name}"
            if len(recent) < 2:
                if name == "all":
                    problems.append(f"{service} {ind.name} has no data in the last {human_duration(window)}")
                continue
            bad = [p for p in recent if worse_by(p[1], reference, ind.higher_is_worse) > reading.threshold]
            if bad:
                at, value = bad[-1]
                allowed = (
                    f"baseline {format_value(ind, reference)}"
                    if reading.threshold > 0
                    else f"SLO {format_value(ind, ind.slo)}, no baseline"
                )
                problems.append(
                    f"{service} {ind.name}{where} was {format_value(ind, value)} at {at:%H:%M:%S} ({allowed})"
                )
    return problems


def gate_resolve(
    state: IncidentState,
    problems: Sequence[str],
    *,
    window: timedelta,
    force: bool,
    why: str | None,
    max_text: int,
) -> str | None:
    """Refuse to resolve while the probe sees ``problems``, unless forced with a reason.

    Returns the reason to record as ``forced_why`` (None when nothing was overridden).
    """
    reason = (why or "").strip()
    if force and not reason:
        raise ValidationError("why", "--force needs --why: say why you resolve against the impact probe")
    if len(reason) > max_text:
        raise ValidationError("why", f"at most {max_text} characters")
    if not problems:
        return None
    if not force:
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        raise InvalidTransition(
            f"{state.ref}: the indicators have not been back at baseline for {human_duration(window)}: "
            f"{shown}. Wait, or resolve with --force --why ..."
        )
    return reason
