"""Refusals and nudges in the browser's words.

The domain writes one message for every interface, and some name the CLI's way out
(``--impact-stopped``, ``warroom role handoff ...``). In the web room those become the
form's own labels and buttons; the field a ``ValidationError`` names is shown by its label.
"""

from __future__ import annotations

import re

from warroom.domain.shared.errors import DomainError, ValidationError

# field name -> the label a person sees on the web form
FIELD_LABELS = {
    "title": "Title",
    "services": "Affected services",
    "kind": "Kind",
    "customer_impact": "Customer impact",
    "critical_journey": "Critical journey down",
    "financial_per_hour": "Loss per hour",
    "data_integrity": "Data integrity",
    "security": "Security",
    "detected_at": "Detected at",
    "impact_started_at": "Impact started at",
    "severity": "Severity",
    "why": "Why",
    "text": "Text",
    "source": "Source",
    "person": "Person",
    "role": "Role",
    "note": "Note",
    "summary": "Summary",
    "impact_stopped": "“User impact has stopped”",
    "risk_controlled": "“Risk is controlled”",
    "data_verified": "“Data verified”",
    "evidence": "Evidence",
    "expected_minutes": "Minutes to effect",
    "authority": "Needs approval by",
    "verification": "Verification query",
    "steps": "Steps",
    "changes": "What it changes",
    "target": "Channel name or email address",
    "audience": "Audience",
    "mitigation": "Mitigation",
    "outcome": "Outcome",
    "guess": "Guess",
    "owner": "Owner",
    "due": "Due",
    "until": "Silence until",
    "reason": "Reason",
    "incident": "Incident",
    "at": "When",
    "service": "Service",
}

_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\s*\(warroom role handoff [^)]*\)"), ": use “Hand off (held role)”"),
    (re.compile(r"\s*with `warroom role handoff [^`]*`"), " with “Hand off (held role)”"),
    (re.compile(r"consider warroom severity \S+ (\S+) --why \.\.\."), r"consider \1 under “Change severity”"),
    (re.compile(r"resolve with --force --why \.\.\."), "tick “Resolve anyway” and say why"),
    (re.compile(r"--force needs --why"), "“Resolve anyway” needs a reason in Why"),
    (
        re.compile(r"\(warroom postmortem lint\) or publish\s+with --override --why \.\.\."),
        "or publish anyway, saying why",
    ),
    (re.compile(r"needs --why"), "needs a reason in Why"),
    (re.compile(r"\s*\(--why\)"), " in Why"),
    (re.compile(r"\s*\(--[a-z][a-z-]*\)"), ""),
    (re.compile(r"\s*\(see: warroom verify\)"), " (an administrator runs warroom verify)"),
)


def in_web_words(text: str) -> str:
    """``text`` with the CLI's flags and commands replaced by the web form's words."""
    for pattern, replacement in _HINTS:
        text = pattern.sub(replacement, text)
    return text


def web_message(error: DomainError) -> str:
    """The refusal as the web room shows it: the field by its label, no CLI flags."""
    if isinstance(error, ValidationError) and error.field in FIELD_LABELS:
        return in_web_words(f"{FIELD_LABELS[error.field]}: {error.detail}")
    return in_web_words(error.message)
