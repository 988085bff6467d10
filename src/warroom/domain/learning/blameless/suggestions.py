"""Blameless rewrites: what each finding suggests instead, naming the condition, not the person.

These read the original text (after a match), so their regexes ignore case.
"""

from __future__ import annotations

import re

from warroom.domain.learning.blameless.vocabulary import HUMAN_ACTIONS

_DETERMINER = r"(?:the|an?|that|this|these|those|his|her|their|our|its)"
_ARTIFACT_AFTER = re.compile(
    rf"\s+(?:{_DETERMINER}|all|several|multiple|two|three|repeated|both)\s+"
    r"(?:[\w-]+\s+){0,2}?(?:alerts?|pages?|warnings?|runbook|playbook|checklist"
    r"|procedure|process|review|steps?|canary|tests?|instructions|documentation|docs"
    r"|ticket|escalation|advice|feedback|signs|signals?|messages?|dashboards?"
    r"|approval|diff)\b",
    re.IGNORECASE,
)
_INCIDENT_AFTER = re.compile(
    r"\s+(?:(?:the|this|that|an?)\s+(?:[\w-]+\s+)?(?:outage|incident|problem|issue"
    r"|failure|downtime|breakage|regression|mess|disruption|build|site)\b"
    r"|prod(?:uction)?\b|everything\b|main\b|master\b)",
    re.IGNORECASE,
)
_WORD_AFTER = re.compile(r"\s+([a-z-]+)", re.IGNORECASE)
_OBJECT = (
    r"(?P<object>[\w-]+(?:\s+(?!(?:to|in|on|at|for|before|after|during|and|or|but|because"
    r"|when|while|so|with|from|by|of|that|which|was|were|is|are|again|first|\w+ly)\b)"
    r"[a-z][\w-]*)?)"
)
_ACTION = r"(?P<action>[a-z-]+(?:\s+(?:back|up|out|over|down|off))?)"
_TO_ACTION_AFTER = re.compile(rf"\s+to\s+{_ACTION}\s+{_DETERMINER}\s+{_OBJECT}", re.I)
_ACTION_AFTER = re.compile(rf"\s+{_ACTION}\s+{_DETERMINER}\s+{_OBJECT}", re.I)
_OBJECT_AFTER = re.compile(rf"\s+{_DETERMINER}\s+{_OBJECT}", re.I)

GENERIC = (
    "Describe what the person saw and what the tools showed at the time, and what made this step easy to miss"
)
CHANGE = (
    "Describe the change and the missing safeguard that let it through "
    "(e.g. 'the config change reached production without review')"
)
HUMAN_ERROR = (
    "Name the condition that made the error likely: the missing safeguard, the "
    "ambiguous step, the misleading signal"
)
JUDGEMENT = (
    "Describe the working conditions at the time (workload, tooling, time pressure) "
    "instead of judging the person"
)
KNOWLEDGE = (
    "Describe what information was available at the time and where it was "
    "(e.g. 'the limit was documented only in an old wiki page')"
)
OTHER_PATH = (
    "Describe what was done instead, and when, and what made the other path hard to "
    "see or take at the time (e.g. 'rollback started at 14:20; the error spike was not "
    "on the main dashboard')"
)
SITUATION = "Describe what happened and the conditions at the time, not the alternative that did not happen"
SIGNAL = (
    "Drop the judgement; state the signal and when it became visible "
    "(e.g. 'the error rate reached 12% at 14:03; no alert covered it')"
)
EFFORT = "Describe what the step involved at the time: its cost, its risk, and what was known"
PREVENTION = (
    "Describe what made the outcome hard to prevent at the time: the signal that was "
    "missing and the safeguard that was absent (e.g. 'nothing blocked the migration while "
    "replication lagged')"
)
AS_IT_HAPPENED = (
    "Describe the step as it happened and what allowed it (e.g. 'the primary was "
    "restarted at 14:02; the runbook did not say to fail over first')"
)
WENT_AHEAD = (
    "Describe what made going ahead look reasonable at the time and what did not stop it "
    "(e.g. 'the deploy went out during the freeze; the pipeline did not enforce the freeze')"
)


def _step(action: str, obj: str) -> str:
    return (
        f"The step to {action.lower()} the {obj} was not part of the checklist "
        "(describe the condition that allowed it)"
    )


def in_human_context(verb: str, text: str, end: int) -> bool:
    """Whether a verb systems do too ("failed to", "missed") is about a person here."""
    if verb == "failed to":
        action = _WORD_AFTER.match(text, end)
        return action is not None and action.group(1).lower() in HUMAN_ACTIONS
    if verb in ("ignored", "missed", "skipped", "disregarded"):
        return _ARTIFACT_AFTER.match(text, end) is not None
    if verb in ("caused", "broke"):
        return _INCIDENT_AFTER.match(text, end) is not None
    return True  # "was to blame", "at fault"


def suggest_for_verb(verb: str, action: str | None, text: str, end: int) -> str:
    """Name the step or the signal instead of the person: "Alice forgot to update the
    config" gives "The step to update the config was not part of the checklist (...)"."""
    first = verb.split()[0]
    if action is not None:  # "didn't check the diff"
        direct = _OBJECT_AFTER.match(text, end)
        return GENERIC if direct is None else _step(action, direct.group("object"))
    if first == "failed":  # "failed to check the dashboard"
        acted = _ACTION_AFTER.match(text, end)
        return GENERIC if acted is None else _step(acted["action"], acted["object"])
    to_action = _TO_ACTION_AFTER.match(text, end)  # "forgot to update the config"
    if to_action is not None:
        return _step(to_action["action"], to_action["object"])
    if first in ("caused", "broke"):
        return CHANGE
    direct = _OBJECT_AFTER.match(text, end)
    if direct is None:
        return GENERIC
    obj = direct["object"]
    if first in ("ignored", "missed", "disregarded"):
        return (
            f"The {obj} did not stand out enough to act on "
            "(describe what made it easy to miss: volume, routing, wording)"
        )
    if first == "skipped":
        return f"The {obj} could be skipped with nothing to stop it (describe what allowed that)"
    if first in ("forgot", "forgotten", "neglected", "overlooked", "botched", "messed"):
        return f"The {obj} was not covered by a check (describe the condition that allowed it)"
    return GENERIC
