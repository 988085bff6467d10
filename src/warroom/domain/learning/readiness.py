"""Playbook readiness: could this service's team run an incident today?

The seed's test, made executable: write the declaration template, the first three triage
questions and the likely IC, comms and scribe; then name one mitigation you could
execute within five minutes. If that is unclear, the runbook is not ready yet.

Six checks, equally weighted; the score is the share passed, rounded to a whole percent
(so 5 of 6 is 83). A service is ready only with all six.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from warroom.domain.shared.errors import ValidationError

FIRST_TRIAGE_QUESTIONS = 3
MITIGATION_MINUTES = 5.0


class PreparedMitigation(NamedTuple):
    """A mitigation the playbook prepares: how long until it takes effect (None when
    nobody wrote it down) and who may authorize it."""

    title: str
    expected_minutes: float | None
    authority: str | None


@dataclass(frozen=True, slots=True)
class PlaybookFacts:
    """What readiness needs to know of one service's playbook. Sequences are stored as
    tuples; a mitigation may be a :class:`PreparedMitigation` or a plain
    ``(title, expected_minutes, authority)`` tuple."""

    service: str
    has_declaration_template: bool
    triage_questions: int
    commander_candidates: Sequence[str] = ()
    comms_candidates: Sequence[str] = ()
    scribe_candidates: Sequence[str] = ()
    mitigations: Sequence[tuple[str, float | None, str | None]] = ()

    def __post_init__(self) -> None:
        if self.triage_questions < 0:
            raise ValidationError("triage_questions", f"{self.triage_questions} is negative")
        for name in ("commander_candidates", "comms_candidates", "scribe_candidates"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(
            self, "mitigations", tuple(PreparedMitigation(*mitigation) for mitigation in self.mitigations)
        )


class ReadinessCheck(NamedTuple):
    """One check: its name, whether it passed, and a sentence saying why."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True, slots=True)
class Readiness:
    """A service's score (0..100), the details of the failed checks as ``gaps``, and
    every check in a fixed order."""

    service: str
    score: int
    gaps: tuple[str, ...]
    checks: tuple[ReadinessCheck, ...]

    @property
    def ready(self) -> bool:
        """All checks passed: what a CI gate asks."""
        return not self.gaps

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "score": self.score,
            "ready": self.ready,
            "gaps": list(self.gaps),
            "checks": [check._asdict() for check in self.checks],
        }


def assess_readiness(facts: PlaybookFacts) -> Readiness:
    """Run the six checks on ``facts`` and score them."""
    checks = (
        _declaration_template(facts),
        _triage_questions(facts),
        _candidates("commander candidates", "incident commander (IC)", facts.commander_candidates),
        _candidates("comms candidates", "comms lead", facts.comms_candidates),
        _candidates("scribe candidates", "scribe", facts.scribe_candidates),
        _five_minute_mitigation(facts),
    )
    passed = sum(check.passed for check in checks)
    return Readiness(
        service=facts.service,
        score=round(100 * passed / len(checks)),
        gaps=tuple(check.detail for check in checks if not check.passed),
        checks=checks,
    )


def _declaration_template(facts: PlaybookFacts) -> ReadinessCheck:
    if facts.has_declaration_template:
        return ReadinessCheck("declaration template", True, "a declaration template is ready")
    return ReadinessCheck(
        "declaration template",
        False,
        "no declaration template: write one with scope, symptom and severity",
    )


def _triage_questions(facts: PlaybookFacts) -> ReadinessCheck:
    count = facts.triage_questions
    noun = "question" if count == 1 else "questions"
    if count >= FIRST_TRIAGE_QUESTIONS:
        return ReadinessCheck("first triage questions", True, f"{count} first triage {noun}")
    return ReadinessCheck(
        "first triage questions",
        False,
        f"{count} first triage {noun}; the first minutes need at least {FIRST_TRIAGE_QUESTIONS} "
        "(how bad, how wide, how fast)",
    )


def _candidates(name: str, role: str, candidates: Sequence[str]) -> ReadinessCheck:
    named = [candidate.strip() for candidate in candidates if candidate.strip()]
    if named:
        return ReadinessCheck(name, True, f"{role}: {', '.join(named)}")
    return ReadinessCheck(name, False, f"nobody is named who may be {role}")


def _five_minute_mitigation(facts: PlaybookFacts) -> ReadinessCheck:
    """Passes with the first mitigation that takes effect within five minutes and names
    who may authorize it; otherwise the detail names what is missing."""
    name = "five-minute mitigation"
    mitigations = [PreparedMitigation(*mitigation) for mitigation in facts.mitigations]
    if not mitigations:
        return ReadinessCheck(name, False, "no prepared mitigation")
    quick = [
        m
        for m in mitigations
        if m.expected_minutes is not None and 0 <= m.expected_minutes <= MITIGATION_MINUTES
    ]
    for mitigation in quick:
        if mitigation.authority and mitigation.authority.strip():
            return ReadinessCheck(
                name,
                True,
                f"'{mitigation.title}' takes {mitigation.expected_minutes:g} min, "
                f"authorized by {mitigation.authority.strip()}",
            )
    if quick:
        return ReadinessCheck(
            name, False, f"'{quick[0].title}' is quick but names no one who may authorize it"
        )
    timed = [m for m in mitigations if m.expected_minutes is not None]
    if not timed:
        return ReadinessCheck(name, False, "no prepared mitigation says how long it takes to work")
    fastest = min(timed, key=lambda m: m.expected_minutes or 0.0)
    return ReadinessCheck(
        name,
        False,
        f"no prepared mitigation works within five minutes "
        f"(fastest: '{fastest.title}', {fastest.expected_minutes:g} min)",
    )
