"""Blameless-language lint for postmortem text.

A finding names a phrase that puts a person, a counterfactual or hindsight where the
postmortem should describe conditions, with a suggested rewrite that names the
condition, never the person. Whether a postmortem may be published with findings is
decided elsewhere (it needs a recorded override); this module only finds.

The rules, decided once and pinned by the corpus in ``tests/learning/test_blameless.py``:

``blame``
    A person plus blame wording. A *person* is a pronoun (he, she, someone, somebody,
    "I"), a role ("the engineer", "the on-call", "the operator", "the team", ...),
    "they" / "we", or a capitalised word in subject position ("Alice"). Verbs only
    people do ("forgot", "neglected", "didn't bother", "dropped the ball", "didn't
    check") are flagged after any of them. Verbs systems do too ("failed to",
    "ignored", "missed", "skipped", "caused", "broke") are flagged after a pronoun or a
    role always, but after "they", "we" or a capitalised word only in a human context:
    "failed to check" (a diligence verb; "Kubernetes failed to schedule" stays
    neutral), "ignored the alert" (a human artefact; "missed the heartbeat" stays
    neutral), "caused the outage"; and the word must look like a name ("Retries caused
    the outage" stays neutral). Also flagged: possessive blame ("Bob's mistake", "his
    fault"; "Kafka's error rate" and "fault tolerance" are not), "human error" and its
    cousins, judging adjectives (careless, negligent, sloppy, reckless, ...; not
    "negligible", not "lazy loading"), and "should have known" (a judgement of what a
    person knew).

``counterfactual``
    A modal plus "have" plus a past participle. "should have" and "ought to have" are
    flagged whatever the subject: they judge a past that did not happen ("the alert
    should have fired" is better written as when it fired and why). "would have" and
    "could have" are flagged only after a person, because after a system they are
    usually an impact estimate ("the bug could have corrupted other tables"). "may
    have", "might have" and "must have" are inference and never flagged. "should" plus
    a base verb ("the deploy should finish in five minutes", "the cache should be
    warmed before traffic shifts") is an expectation, and "should have" plus a noun is
    possession ("every service should have a runbook", "... automated rollback"):
    neither is flagged. Also flagged: "if only", "had they rolled back", "if Alice had
    paged", "it would have been better".

``hindsight``
    "obviously" (not "not obviously"), "it was obvious" and "the obvious fix" (not "it
    was not obvious", not "no obvious signal"), "clearly" only where it judges an
    action ("clearly should", "clearly needed to"; "the error budget was clearly
    exceeded" states a measured fact and stays neutral), "of course they", "simply
    needed to", "just had to", "all they had to do".

Where findings overlap one survives: blame before hindsight before counterfactual
("should have known" is blame, "should have been obvious" is hindsight).

Matching is regex-based and deterministic. Patterns run on an ASCII-lower-cased copy of
the text (case-insensitive regexes are an order of magnitude slower); where capitals are
the evidence (names, "I") the original text is consulted. Each pattern runs only near
the words it needs (``_Pattern``): 10,000 lines lint in about 0.1 s.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Rule = Literal["blame", "counterfactual", "hindsight"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One phrase to rewrite.

    ``location`` is ``"<section> <line>:<column>"``, or just ``"<line>:<column>"`` without
    a section; ``line`` and ``column`` are 1-based and count characters. ``text`` is the
    phrase exactly as written.
    """

    rule: Rule
    location: str
    line: int
    column: int
    text: str
    message: str
    suggestion: str


_MESSAGES: dict[Rule, str] = {
    "blame": "Blames a person: describe the condition that allowed it, not who.",
    "counterfactual": "Counterfactual: describes what did not happen instead of what did.",
    "hindsight": "Hindsight: judges with knowledge that was not available at the time.",
}
_PRIORITY: dict[Rule, int] = {"blame": 0, "hindsight": 1, "counterfactual": 2}

# --- vocabulary (lower case: patterns run on lower-cased text) -----------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_APOSTROPHE = r"['\u2019]"
_NOT = rf"(?:n{_APOSTROPHE}t|\s+not)"
_HAVE = rf"(?:\s+have|{_APOSTROPHE}ve)"
_ROLE = (
    r"(?:the|an?|our|their|that|this|these|those)\s+(?:"
    r"on-?call(?:\s+engineers?)?|engineers?|operators?|developers?|devs?|sres?|reviewers?"
    r"|authors?|responders?|deployers?|admin(?:istrator)?s?|interns?|new\s+hires?"
    r"|contractors?|team|incident\s+commanders?|release\s+managers?|dbas?|team\s+members?"
    r"|employees?|person|people|humans?)"
)
# Any word: whether it is a pronoun, a name or neither is decided on the original text.
_WORD = rf"[a-z]+(?:{_APOSTROPHE}[a-z]+|-[a-z]+)?"
_SUBJECT = rf"(?P<subject>{_ROLE}|{_WORD})"
_ADVERB = r"(?:\w+ly|just|simply|never|also|again|still|then|even)"

# Verbs only people do.
_STRONG = (
    r"(?P<strong>(?:(?:had|has|have)\s+)?(?:forgot(?:ten)?|neglected|overlooked|botched"
    r"|blundered|fumbled|(?:messed|screwed)\s+up|dropped\s+the\s+ball|never\s+bothered"
    r"|made\s+an?\s+(?:\w+\s+)?(?:mistake|error|blunder)"
    rf"|(?:was|were){_NOT}\s+paying\s+attention"
    rf"|did{_NOT}\s+(?P<dverb>bother|care|think|pay\s+attention|check|notice|follow"
    r"|test|verify|read|review|look|ask|escalate|validate|confirm|double-check"
    r"|communicate|update|tell|inform|document)))"
)
# Verbs systems do too: they need a human context unless the subject is surely a person.
_WEAK = (
    r"(?P<weak>failed\s+to|ignored|missed|skipped|disregarded|caused|broke"
    r"|(?:was|is|were|are)\s+(?:to\s+blame|at\s+fault))"
)
_HUMAN_ACTIONS = _words(
    "check notice follow test verify read review look ask escalate validate confirm"
    " double-check communicate update tell inform document consider account catch spot"
    " acknowledge mention announce coordinate hand wait understand realize realise"
    " anticipate plan prepare pay heed listen remember raise flag declare investigate"
    " call"
)
_BLAME_NOUN = r"(?:mistake|fault|error|blunder|oversight|negligence|carelessness|screw-?up)"
# "error rate", "fault tolerance": a compound noun about a system, not blame.
_NOT_COMPOUND = (
    r"(?![-\s]+(?:rates?|ratio|budgets?|counts?|codes?|messages?|logs?|handling|handler"
    r"|pages?|paths?|spikes?|class|types?|responses?|metrics?|dashboards?|alerts?"
    r"|tolerance|tolerant|domains?|injection|detection|isolation)\b)"
)
_PARTICIPLE = (
    r"(?:(?!(?:need|speed|seed|feed|red|bed|shed|bleed|breed|greed|weed|embed)\b)"
    r"[a-z][\w-]*ed|been|seen|known|shown|thrown|grown|drawn|blown|taken|given|written"
    r"|rewritten|broken|chosen|spoken|frozen|forgotten|gotten|driven|hidden|fallen"
    r"|woken|shaken|stolen|proven|mistaken|undertaken|caught|thought|taught|brought"
    r"|bought|sought|found|run|set|put|read|kept|left|made|sent|spent|built|held|told"
    r"|felt|lost|met|paid|said|stood|understood|begun|shut|cut|hit|let|split|done|gone"
    r"|led|fed|dealt|heard|stuck|got|become|come)\b"
)
_CF_TAIL = (
    r"\s+(?:(?:\w+ly|just|simply|already|also|never|not|at\s+least|only)\s+)?"
    rf"(?P<pp>{_PARTICIPLE})(?:\s+(?:back|up|out|over|down|off)\b)?"
)
# Participles that read as adjectives of possession ("should have automated rollback").
_POSSESSION_ADJECTIVES = _words(
    "automated dedicated documented defined isolated versioned pinned named signed"
    " scheduled distributed replicated bounded limited detailed"
)
_FUNCTION_WORD_AFTER = re.compile(
    r"\s+(?:the|an?|this|that|these|those|it|them|him|her|his|their|our|its|back|up"
    r"|out|over|down|off|earlier|sooner|first|before|after|when|by|to|in|on|at|for"
    r"|with|more|less)\b|\s*[.,;:!?]|\s*$"
)
_NOT_BEFORE = re.compile(rf"(?:\bnot|n{_APOSTROPHE}t)\s+$")

# Capitalised words that are not names: sentence-initial nouns and common systems.
_NOT_NAMES = _words(
    "This That These Those It Its There Which What When Then Nothing Everything"
    " Something Nobody Everyone Traffic Load Latency Config Code Memory Disk Network"
    " Cache Retry Timeout Deploy Rollout Release Change Upgrade Migration Failover"
    " Backpressure Garbage Automation Tooling Kafka Nginx Envoy Terraform Docker Helm"
    " Consul Vault Istio Linux Java Python Prometheus Grafana Alertmanager Cassandra"
    " Mongo Memcached Celery Zookeeper Etcd Spinnaker Argo Cloudflare Fastly Akamai"
    " Redis Slack Jira Chef Puppet Lambda Storage Auth"
)
_NOUN_SUFFIXES = ("ing", "tion", "sion", "ment", "ness", "ity", "ance", "ence", "ure", "age")
_CAPITALISED = re.compile(r"[A-Z][a-z]+(?:['\u2019-][A-Z][a-z]+)?")


def _kind(subject: str) -> Literal["person", "maybe", "name", "word"]:
    """How sure it is that ``subject`` (as written) is a person: surely, maybe
    (they/we), a name-looking capitalised word, or not at all."""
    lowered = subject.lower()
    if lowered in ("they", "we"):
        return "maybe"
    if lowered in ("he", "she", "someone", "somebody") or subject == "I":
        return "person"
    if any(space.isspace() for space in subject):
        return "person"  # only roles ("the on-call") contain white space
    if not _CAPITALISED.fullmatch(subject) or subject in _NOT_NAMES:
        return "word"
    if lowered.endswith(_NOUN_SUFFIXES):
        return "word"
    # Plurals ("Retries", "Deploys") are not names; "Chris" and "Marcus" are.
    if lowered.endswith("s") and not lowered.endswith(("ss", "us", "is", "as")):
        return "word"
    return "name"


def _written(match: re.Match[str], group: str, text: str) -> str:
    """A group of a match on the lower-cased text, as written in the original."""
    return text[match.start(group) : match.end(group)]


# --- human context and suggestions (these read the original text) ------------------------

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

_GENERIC = (
    "Describe what the person saw and what the tools showed at the time, and what made this step easy to miss"
)
_CHANGE = (
    "Describe the change and the missing safeguard that let it through "
    "(e.g. 'the config change reached production without review')"
)
_HUMAN_ERROR = (
    "Name the condition that made the error likely: the missing safeguard, the "
    "ambiguous step, the misleading signal"
)
_JUDGEMENT = (
    "Describe the working conditions at the time (workload, tooling, time pressure) "
    "instead of judging the person"
)
_KNOWLEDGE = (
    "Describe what information was available at the time and where it was "
    "(e.g. 'the limit was documented only in an old wiki page')"
)
_OTHER_PATH = (
    "Describe what was done instead, and when, and what made the other path hard to "
    "see or take at the time (e.g. 'rollback started at 14:20; the error spike was not "
    "on the main dashboard')"
)
_SITUATION = "Describe what happened and the conditions at the time, not the alternative that did not happen"
_SIGNAL = (
    "Drop the judgement; state the signal and when it became visible "
    "(e.g. 'the error rate reached 12% at 14:03; no alert covered it')"
)
_EFFORT = "Describe what the step involved at the time: its cost, its risk, and what was known"


def _step(action: str, obj: str) -> str:
    return (
        f"The step to {action.lower()} the {obj} was not part of the checklist "
        "(describe the condition that allowed it)"
    )


def _in_human_context(verb: str, text: str, end: int) -> bool:
    """Whether a verb systems do too ("failed to", "missed") is about a person here."""
    if verb == "failed to":
        action = _WORD_AFTER.match(text, end)
        return action is not None and action.group(1).lower() in _HUMAN_ACTIONS
    if verb in ("ignored", "missed", "skipped", "disregarded"):
        return _ARTIFACT_AFTER.match(text, end) is not None
    if verb in ("caused", "broke"):
        return _INCIDENT_AFTER.match(text, end) is not None
    return True  # "was to blame", "at fault"


def _suggest_for_verb(verb: str, action: str | None, text: str, end: int) -> str:
    """Name the step or the signal instead of the person: "Alice forgot to update the
    config" gives "The step to update the config was not part of the checklist (...)"."""
    first = verb.split()[0]
    if action is not None:  # "didn't check the diff"
        direct = _OBJECT_AFTER.match(text, end)
        return _GENERIC if direct is None else _step(action, direct.group("object"))
    if first == "failed":  # "failed to check the dashboard"
        acted = _ACTION_AFTER.match(text, end)
        return _GENERIC if acted is None else _step(acted["action"], acted["object"])
    to_action = _TO_ACTION_AFTER.match(text, end)  # "forgot to update the config"
    if to_action is not None:
        return _step(to_action["action"], to_action["object"])
    if first in ("caused", "broke"):
        return _CHANGE
    direct = _OBJECT_AFTER.match(text, end)
    if direct is None:
        return _GENERIC
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
    return _GENERIC


# --- acceptance: a match is a finding when its accept function returns a suggestion ------

_Accept = Callable[[re.Match[str], str], str | None]


def _fixed(suggestion: str) -> _Accept:
    return lambda _match, _text: suggestion


def _accept_subject_verb(match: re.Match[str], text: str) -> str | None:
    kind = _kind(_written(match, "subject", text))
    weak = match["weak"]
    if weak is not None:
        verb = " ".join(weak.split())
        if kind != "person" and (kind == "word" or not _in_human_context(verb, text, match.end())):
            return None
    else:
        if kind == "word":
            return None
        verb = re.sub(r"^(?:had|has|have)\s+", "", " ".join(match["strong"].split()))
    action = match["dverb"]
    if action is not None and action.split()[0] in ("bother", "care", "think", "pay"):
        action = None  # "didn't bother to read the runbook": the action is "read"
    return _suggest_for_verb(verb, action, text, match.end())


def _accept_possessive(match: re.Match[str], text: str) -> str | None:
    if match["owner"] is not None and _kind(_written(match, "owner", text)) == "word":
        return None
    return _CHANGE


def _accept_counterfactual(match: re.Match[str], text: str) -> str | None:
    if match["pp"] in _POSSESSION_ADJECTIVES and not _FUNCTION_WORD_AFTER.match(text, match.end()):
        return None  # "every service should have automated rollback" is a norm
    return _OTHER_PATH


def _accept_person_counterfactual(match: re.Match[str], text: str) -> str | None:
    if _kind(_written(match, "subject", text)) == "word":
        return None
    return _accept_counterfactual(match, text)


def _accept_obvious(match: re.Match[str], text: str) -> str | None:
    if _NOT_BEFORE.search(text[max(match.start() - 6, 0) : match.start()].lower()):
        return None  # "not obviously wrong"
    return _SIGNAL


def _accept_of_course(match: re.Match[str], text: str) -> str | None:
    if match["name"] is not None and _kind(_written(match, "name", text)) != "name":
        return None
    return _EFFORT


# --- patterns --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Pattern:
    """A regex, and where to run it.

    A regex scan costs about 25 ns a character however rare its matches are, and
    ``str.find`` a hundred times less, so each regex runs only near its ``triggers``:
    lower-case substrings of which every match contains one. Without ``lead_words``
    the regex searches from ``before`` characters ahead of a trigger to ``after``
    characters past it. With ``lead_words`` (patterns that start with a subject) it is
    only tried at the starts of the last ``lead_words`` words within ``before``
    characters of the trigger, and only where ``confirm`` matches at the trigger.
    """

    rule: Rule
    regex: re.Pattern[str]
    accept: _Accept
    triggers: tuple[str, ...]
    before: int
    after: int = 0
    lead_words: int = 0
    confirm: re.Pattern[str] | None = None


def _triggers(words: str) -> tuple[str, ...]:
    return tuple(words.split())


_PATTERNS: tuple[_Pattern, ...] = (
    _Pattern(
        "blame",
        re.compile(rf"\b{_SUBJECT},?\s+(?:{_ADVERB}\s+)?(?:{_STRONG}|{_WEAK})\b"),
        _accept_subject_verb,
        _triggers(
            "forgot neglect overlook botch blunder fumbl messed screwed dropped bother made"
            " paying did failed ignored missed skipped disregard caused broke blame fault"
        ),
        before=60,
        lead_words=7,  # "the on-call engineer" "then" "wasn't paying"
        confirm=re.compile(
            r"(?:forgot|neglected|overlooked|botched|blundered|fumbled|messed\s+up"
            r"|screwed\s+up|dropped\s+the|bother|made\s+an?\s|paying\s+attention"
            rf"|did{_NOT}\s|failed\s+to|ignored|missed|skipped|disregarded|caused|broke"
            r"|blame|fault)\b"
        ),
    ),
    _Pattern(
        "blame",
        re.compile(
            rf"\b(?:(?P<owner>{_ROLE}|{_WORD}){_APOSTROPHE}s|his|her|their|my|your|our)"
            rf"\s+(?:own\s+|\w+\s+)?{_BLAME_NOUN}\b{_NOT_COMPOUND}"
        ),
        _accept_possessive,
        _triggers("mistake fault error blunder oversight negligence carelessness screw"),
        before=50,
        lead_words=4,  # "the on-call engineer's" "own"
        confirm=re.compile(rf"{_BLAME_NOUN}\b{_NOT_COMPOUND}"),
    ),
    _Pattern(
        "blame",
        re.compile(rf"\b(?:human|operator|user|pilot|engineer)\s+(?:error|mistake)\b{_NOT_COMPOUND}"),
        _fixed(_HUMAN_ERROR),
        _triggers("error mistake"),
        before=16,
        after=30,
    ),
    _Pattern(
        "blame",
        re.compile(
            r"\b(?:careless(?:ly|ness)?|negligen(?:t|ce|tly)|sloppy|sloppily|sloppiness"
            r"|reckless(?:ly|ness)?|incompeten(?:t|ce)|laziness|idiot\w*|foolish(?:ly)?"
            r"|irresponsibl[ey]|inattentive|lazy(?![-\s]+(?:load\w*|evaluation|eval"
            r"|init\w*|import\w*|iterat\w*|fetch\w*|static)))\b"
        ),
        _fixed(_JUDGEMENT),
        _triggers(
            "careless negligen slopp reckless incompeten lazy laziness idiot foolish irresponsib inattenti"
        ),
        before=0,
        after=30,
    ),
    _Pattern(
        "blame",
        re.compile(rf"\b(?:did{_NOT}|never|nobody|no\s+one)\s+bother(?:ed)?\b|\bdropped\s+the\s+ball\b"),
        _fixed(_GENERIC),
        _triggers("bother dropped"),
        before=10,
        after=20,
    ),
    _Pattern(
        "blame",
        re.compile(
            rf"\bshould(?:{_NOT})?{_HAVE}\s+(?:known|realized|realised|understood|anticipated"
            r"|foreseen)\b"
        ),
        _fixed(_KNOWLEDGE),
        _triggers("should"),
        before=0,
        after=40,
    ),
    _Pattern(
        "counterfactual",
        re.compile(rf"\b(?:should(?:{_NOT})?|ought(?:\s+not)?\s+to){_HAVE}{_CF_TAIL}"),
        _accept_counterfactual,
        _triggers("should ought"),
        before=0,
        after=60,
    ),
    _Pattern(
        "counterfactual",
        re.compile(rf"\b{_SUBJECT}\s+(?:{_ADVERB}\s+)?(?:would|could)(?:{_NOT})?{_HAVE}{_CF_TAIL}"),
        _accept_person_counterfactual,
        _triggers("would could"),
        before=50,
        lead_words=4,  # "the on-call engineer" "then"
        confirm=re.compile(rf"(?:would|could)(?:{_NOT})?{_HAVE}\s"),
    ),
    _Pattern(
        "counterfactual",
        re.compile(rf"\bhad\s+{_SUBJECT}{_CF_TAIL}"),
        _accept_person_counterfactual,
        _triggers("had"),
        before=0,
        after=60,
    ),
    _Pattern(
        "counterfactual",
        re.compile(rf"\bif\s+{_SUBJECT}\s+(?:had|{_APOSTROPHE}d){_CF_TAIL}"),
        _accept_person_counterfactual,
        _triggers("had 'd \u2019d"),
        before=40,
        after=60,
    ),
    _Pattern(
        "counterfactual",
        re.compile(
            r"\bif\s+only\b|\b(?:it|that|this)\s+would\s+have\s+been\s+(?:better|wiser"
            r"|safer|smarter|faster|easier|preferable)\b"
        ),
        _fixed(_SITUATION),
        _triggers("only would"),
        before=10,
        after=40,
    ),
    _Pattern(
        "hindsight",
        re.compile(
            r"\bobviously\b"
            rf"|\b(?:was|were|is|are|been|seemed|seems|looked|looks|it{_APOSTROPHE}s)\s+"
            r"(?:(?:so|very|really|quite|completely|totally|perfectly)\s+)?obvious\b"
            r"|\bthe\s+obvious\s+(?:fix|thing|step|choice|answer|move|action|solution|cause)\b"
            r"|\bclearly(?=\s+(?:should|ought|needed|had\s+to|must|was\s+wrong"
            r"|were\s+wrong|was\s+a\s+mistake|knew|could|would)\b)"
        ),
        _accept_obvious,
        _triggers("obvious clearly"),
        before=25,
        after=40,
    ),
    _Pattern(
        "hindsight",
        re.compile(
            rf"\bof\s+course,?\s+(?:(?:{_ROLE}|he|she|they|we|someone|somebody)\b"
            r"|(?P<name>[a-z]+)\s+(?:should|could|would|knew|forgot|missed|ignored)\b)"
            r"|\b(?:simply|just|only)\s+(?:needed|had)\s+to\b"
            rf"|\ball\s+(?:{_ROLE}|he|she|they|we|you|someone|somebody|i)\s+"
            r"(?:had|needed)\s+to\s+do\b"
            rf"|\b(?:it\s+was|it{_APOSTROPHE}s)\s+easy\s+to\s+see\b"
            r"|\banyone\s+could\s+(?:see|tell)\b"
        ),
        _accept_of_course,
        _triggers("course needed had easy anyone"),
        before=45,
        after=40,
    ),
)


# --- matching --------------------------------------------------------------------------

_ASCII_LOWER = {upper: upper + 32 for upper in range(ord("A"), ord("Z") + 1)}
_SPACE = re.compile(r"\s")
_WORD_START = re.compile(r"(?<!\S)\S")
_NEWLINE = re.compile("\n")


@dataclass(frozen=True, slots=True)
class _Candidate:
    priority: int
    start: int
    end: int
    rule: Rule
    suggestion: str


_SUBJECT_STARTERS = _words(
    "the a an our their that this these those he she someone somebody they we his her my your"
)
_LETTERS = re.compile(r"[a-z]+")


def _may_start_subject(text: str, lowered: str, at: int) -> bool:
    """A cheap test before a full match: subjects start with a capital (a name, "I") or
    with a pronoun or a determiner ("the on-call")."""
    if text[at].isupper():
        return True
    word = _LETTERS.match(lowered, at)
    return word is not None and word.group() in _SUBJECT_STARTERS


def _trigger_hits(pattern: _Pattern, lowered: str) -> list[int]:
    hits: list[int] = []
    for trigger in pattern.triggers:
        at = lowered.find(trigger)
        while at != -1:
            hits.append(at)
            at = lowered.find(trigger, at + 1)
    hits.sort()
    return hits


def _windows(pattern: _Pattern, hits: list[int], lowered: str) -> list[tuple[int, int]]:
    """The spans around the trigger hits, merged. A window ends on white space, so no
    word, and no look-ahead, is cut short; matching sees the text before a window, so a
    ``\\b`` at its start is still honest."""
    windows: list[tuple[int, int]] = []
    for at in hits:
        start = max(at - pattern.before, 0)
        space = _SPACE.search(lowered, at + pattern.after)
        end = space.start() if space else len(lowered)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(end, windows[-1][1]))
        else:
            windows.append((start, end))
    return windows


def _search(pattern: _Pattern, lowered: str, text: str) -> Iterator[tuple[re.Match[str], str]]:
    """Accepted matches of ``pattern`` with their suggestions (possibly repeated)."""
    hits = _trigger_hits(pattern, lowered)
    if pattern.lead_words:
        for hit in hits:
            if pattern.confirm is not None and not pattern.confirm.match(lowered, hit):
                continue
            lead = lowered[max(hit - pattern.before, 0) : hit]
            starts = [word.start() for word in _WORD_START.finditer(lead)]
            offset = hit - len(lead)
            for start in starts[-pattern.lead_words :]:  # farthest first: longest subject
                if not _may_start_subject(text, lowered, offset + start):
                    continue
                match = pattern.regex.match(lowered, offset + start)
                if match is not None and match.end() > hit:
                    suggestion = pattern.accept(match, text)
                    if suggestion is not None:
                        yield match, suggestion
                        break
        return
    for start, end in _windows(pattern, hits, lowered):
        at = start
        while (match := pattern.regex.search(lowered, at, end)) is not None:
            suggestion = pattern.accept(match, text)
            if suggestion is not None:
                yield match, suggestion
            # A rejected match must not hide a later one that overlaps it.
            at = max(match.end(), match.start() + 1) if suggestion else match.start() + 1


def _candidates(text: str) -> list[_Candidate]:
    lowered = text.lower()
    if len(lowered) != len(text):  # a few non-ASCII letters change length when lowered
        lowered = text.translate(_ASCII_LOWER)
    return [
        _Candidate(_PRIORITY[pattern.rule], match.start(), match.end(), pattern.rule, suggestion)
        for pattern in _PATTERNS
        for match, suggestion in _search(pattern, lowered, text)
    ]


def _without_overlaps(candidates: list[_Candidate]) -> list[_Candidate]:
    """Keep the higher-priority (then earlier, then longer) finding where two overlap."""
    starts: list[int] = []
    kept: list[_Candidate] = []  # parallel to ``starts``, in text order
    for candidate in sorted(candidates, key=lambda c: (c.priority, c.start, -c.end)):
        index = bisect.bisect_left(starts, candidate.start)
        if index > 0 and kept[index - 1].end > candidate.start:
            continue
        if index < len(kept) and kept[index].start < candidate.end:
            continue
        starts.insert(index, candidate.start)
        kept.insert(index, candidate)
    return kept


def lint(text: str, *, location: str = "") -> list[Finding]:
    """Find blame, counterfactual and hindsight wording in ``text``, in text order.

    ``location`` names the section; it prefixes each finding's ``"line:column"``.
    """
    line_starts = [0]
    line_starts.extend(newline.end() for newline in _NEWLINE.finditer(text))
    prefix = f"{location} " if location else ""
    findings: list[Finding] = []
    for candidate in _without_overlaps(_candidates(text)):
        line = bisect.bisect_right(line_starts, candidate.start)
        column = candidate.start - line_starts[line - 1] + 1
        findings.append(
            Finding(
                rule=candidate.rule,
                location=f"{prefix}{line}:{column}",
                line=line,
                column=column,
                text=text[candidate.start : candidate.end],
                message=_MESSAGES[candidate.rule],
                suggestion=candidate.suggestion,
            )
        )
    return findings


def lint_document(sections: Mapping[str, str | Sequence[str]]) -> list[Finding]:
    """Lint every section of a postmortem, in the mapping's order.

    A section is a text (findings located like ``"summary 3:14"``) or a sequence of
    texts, each located by its 0-based index (``"contributing_factors[2] 1:7"``).
    """
    findings: list[Finding] = []
    for name, content in sections.items():
        if isinstance(content, str):
            findings.extend(lint(content, location=name))
        else:
            for index, item in enumerate(content):
                findings.extend(lint(item, location=f"{name}[{index}]"))
    return findings
