"""The rules: which phrases are findings, and what each suggests.

Decided once and pinned by the corpus in ``tests/learning/test_blameless.py``:

``blame``
    A person plus blame wording. A *person* is a pronoun (he, she, someone, somebody,
    "I"), a role ("the engineer", "the on-call", "the DBA", "the network engineer", ...),
    a group ("the team", "the ops team", "the site reliability team", and capitalised
    "QA", "Ops", "SRE", "Management", "Leadership", ...), "they" / "we", or a
    capitalised word in subject position ("Alice"). Programs named like roles ("the
    secrets manager", "the Kubernetes operator") and group words inside compounds
    ("config management") are not people. Verbs only
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
    "negligible", not "lazy loading"), "should have known" (a judgement of what a
    person knew), and blame split across two clauses: what was known ("everyone
    knew", "it was obvious that", "she was told") and then a person acting against it
    ("; Dave deployed anyway", ", but the SRE went ahead"). "went ahead" needs "but" or
    "yet"; "so the SRE went ahead" and "and the team still paged" report, not blame.

``counterfactual``
    A modal plus "have" plus a past participle. "should have" and "ought to have" are
    flagged whatever the subject: they judge a past that did not happen ("the alert
    should have fired" is better written as when it fired and why). "would have" and
    "could have" are flagged only after a person, because after a system they are
    usually an impact estimate ("the bug could have corrupted other tables"). "never"
    counts as "not" ("the ops team should never have restarted the primary"). "may
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

Each finding suggests a rewrite naming the condition: the step missing from the
checklist, the signal that did not stand out, what made the outcome hard to prevent
("could have avoided"), the step as it happened ("should never have"), what made going
ahead look reasonable (two clauses), and so on (``suggestions``).

Where findings overlap one survives: blame before hindsight before counterfactual
("should have known" is blame, "should have been obvious" is hindsight). How the
patterns are run over a text is in ``scan``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from warroom.domain.learning.blameless.suggestions import (
    AS_IT_HAPPENED,
    CHANGE,
    EFFORT,
    GENERIC,
    HUMAN_ERROR,
    JUDGEMENT,
    KNOWLEDGE,
    OTHER_PATH,
    PREVENTION,
    SIGNAL,
    SITUATION,
    WENT_AHEAD,
    in_human_context,
    suggest_for_verb,
)
from warroom.domain.learning.blameless.vocabulary import (
    ADVERB,
    APOSTROPHE,
    BLAME_NOUN,
    CF_TAIL,
    CLAUSE_BREAK,
    DEFIANCE,
    FUNCTION_WORD_AFTER,
    GROUPS_LOWER,
    HAVE,
    KNEW,
    NOT,
    NOT_A_SUBJECT,
    NOT_BEFORE,
    NOT_COMPOUND,
    NOT_OR_NEVER,
    POSSESSION_ADJECTIVES,
    PREVENTED,
    ROLE,
    STRONG,
    SUBJECT,
    WEAK,
    WORD,
    kind_of,
    written,
)

Rule = Literal["blame", "counterfactual", "hindsight"]

MESSAGES: dict[Rule, str] = {
    "blame": "Blames a person: describe the condition that allowed it, not who.",
    "counterfactual": "Counterfactual: describes what did not happen instead of what did.",
    "hindsight": "Hindsight: judges with knowledge that was not available at the time.",
}
PRIORITY: dict[Rule, int] = {"blame": 0, "hindsight": 1, "counterfactual": 2}


# --- acceptance: a match is a finding when its accept function returns a suggestion ------

_Accept = Callable[[re.Match[str], str], str | None]


def _fixed(suggestion: str) -> _Accept:
    return lambda _match, _text: suggestion


def _accept_subject_verb(match: re.Match[str], text: str) -> str | None:
    kind = kind_of(written(match, "subject", text))
    weak = match["weak"]
    if weak is not None:
        verb = " ".join(weak.split())
        if kind != "person" and (kind == "word" or not in_human_context(verb, text, match.end())):
            return None
    else:
        if kind == "word":
            return None
        verb = re.sub(r"^(?:had|has|have)\s+", "", " ".join(match["strong"].split()))
    action = match["dverb"]
    if action is not None and action.split()[0] in ("bother", "care", "think", "pay"):
        action = None  # "didn't bother to read the runbook": the action is "read"
    return suggest_for_verb(verb, action, text, match.end())


def _accept_possessive(match: re.Match[str], text: str) -> str | None:
    if match["owner"] is not None and kind_of(written(match, "owner", text)) == "word":
        return None
    return CHANGE


def _accept_counterfactual(match: re.Match[str], text: str) -> str | None:
    if match["pp"] in POSSESSION_ADJECTIVES and not FUNCTION_WORD_AFTER.match(text, match.end()):
        return None  # "every service should have automated rollback" is a norm
    if match["pp"] in PREVENTED:
        return PREVENTION  # "could have avoided the outage"
    if match.groupdict().get("negated"):
        return AS_IT_HAPPENED  # "should never have restarted the primary": it happened
    return OTHER_PATH


def _accept_person_counterfactual(match: re.Match[str], text: str) -> str | None:
    if kind_of(written(match, "subject", text)) == "word":
        return None
    return _accept_counterfactual(match, text)


def _accept_obvious(match: re.Match[str], text: str) -> str | None:
    if NOT_BEFORE.search(text[max(match.start() - 6, 0) : match.start()].lower()):
        return None  # "not obviously wrong"
    return SIGNAL


def _accept_went_ahead(match: re.Match[str], text: str) -> str | None:
    subject = written(match, "subject", text)
    # After "but" or a semicolon a group needs no capital: "but management went ahead".
    if kind_of(subject) == "word" and subject.lower() not in GROUPS_LOWER:
        return None  # "everyone knew the disk was filling; Kafka lagged anyway"
    if match["defiance"] is None and match["conj"] not in ("but", "yet"):
        return None  # "everyone knew the plan, so the SRE went ahead"
    return WENT_AHEAD


def _accept_of_course(match: re.Match[str], text: str) -> str | None:
    if match["name"] is not None and kind_of(written(match, "name", text)) != "name":
        return None
    return EFFORT


# --- patterns --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pattern:
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


PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "blame",
        re.compile(rf"\b{SUBJECT},?\s+(?:{ADVERB}\s+)?(?:{STRONG}|{WEAK})\b"),
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
            rf"|did{NOT}\s|failed\s+to|ignored|missed|skipped|disregarded|caused|broke"
            r"|blame|fault)\b"
        ),
    ),
    Pattern(
        "blame",
        re.compile(
            rf"\b(?:(?P<owner>{ROLE}|{WORD}){APOSTROPHE}s|his|her|their|my|your|our)"
            rf"\s+(?:own\s+|\w+\s+)?{BLAME_NOUN}\b{NOT_COMPOUND}"
        ),
        _accept_possessive,
        _triggers("mistake fault error blunder oversight negligence carelessness screw"),
        before=60,
        lead_words=5,  # "the site reliability team's" "own"
        confirm=re.compile(rf"{BLAME_NOUN}\b{NOT_COMPOUND}"),
    ),
    Pattern(
        "blame",
        re.compile(rf"\b(?:human|operator|user|pilot|engineer)\s+(?:error|mistake)\b{NOT_COMPOUND}"),
        _fixed(HUMAN_ERROR),
        _triggers("error mistake"),
        before=16,
        after=30,
    ),
    Pattern(
        "blame",
        re.compile(
            r"\b(?:careless(?:ly|ness)?|negligen(?:t|ce|tly)|sloppy|sloppily|sloppiness"
            r"|reckless(?:ly|ness)?|incompeten(?:t|ce)|laziness|idiot\w*|foolish(?:ly)?"
            r"|irresponsibl[ey]|inattentive|lazy(?![-\s]+(?:load\w*|evaluation|eval"
            r"|init\w*|import\w*|iterat\w*|fetch\w*|static)))\b"
        ),
        _fixed(JUDGEMENT),
        _triggers(
            "careless negligen slopp reckless incompeten lazy laziness idiot foolish irresponsib inattenti"
        ),
        before=0,
        after=30,
    ),
    Pattern(
        "blame",
        re.compile(rf"\b(?:did{NOT}|never|nobody|no\s+one)\s+bother(?:ed)?\b|\bdropped\s+the\s+ball\b"),
        _fixed(GENERIC),
        _triggers("bother dropped"),
        before=10,
        after=20,
    ),
    Pattern(
        "blame",
        re.compile(
            rf"\b{KNEW}\b[^.!?]{{0,160}}?{CLAUSE_BREAK}(?P<subject>{ROLE}|{NOT_A_SUBJECT}{WORD})\s+"
            rf"(?:[^.!?;]{{0,80}}?\b(?P<defiance>{DEFIANCE})|(?:{ADVERB}\s+)?went\s+ahead)\b"
        ),
        _accept_went_ahead,
        _triggers("anyway anyhow regardless nonetheless nevertheless the same went ahead"),
        before=260,
        after=20,
    ),
    Pattern(
        "blame",
        re.compile(
            rf"\bshould(?:{NOT})?{HAVE}\s+(?:known|realized|realised|understood|anticipated"
            r"|foreseen)\b"
        ),
        _fixed(KNOWLEDGE),
        _triggers("should"),
        before=0,
        after=40,
    ),
    Pattern(
        "counterfactual",
        re.compile(rf"\b(?:should(?P<negated>{NOT_OR_NEVER})?|ought(?:\s+not)?\s+to){HAVE}{CF_TAIL}"),
        _accept_counterfactual,
        _triggers("should ought"),
        before=0,
        after=60,
    ),
    Pattern(
        "counterfactual",
        re.compile(
            rf"\b{SUBJECT}\s+(?:{ADVERB}\s+)?(?:would|could)(?P<negated>{NOT_OR_NEVER})?{HAVE}{CF_TAIL}"
        ),
        _accept_person_counterfactual,
        _triggers("would could"),
        before=60,
        lead_words=6,  # "the site reliability team" "then"
        confirm=re.compile(rf"(?:would|could){NOT_OR_NEVER}?{HAVE}\s"),
    ),
    Pattern(
        "counterfactual",
        re.compile(rf"\bhad\s+{SUBJECT}{CF_TAIL}"),
        _accept_person_counterfactual,
        _triggers("had"),
        before=0,
        after=60,
    ),
    Pattern(
        "counterfactual",
        re.compile(rf"\bif\s+{SUBJECT}\s+(?:had|{APOSTROPHE}d){CF_TAIL}"),
        _accept_person_counterfactual,
        _triggers("had 'd \u2019d"),
        before=40,
        after=60,
    ),
    Pattern(
        "counterfactual",
        re.compile(
            r"\bif\s+only\b|\b(?:it|that|this)\s+would\s+have\s+been\s+(?:better|wiser"
            r"|safer|smarter|faster|easier|preferable)\b"
        ),
        _fixed(SITUATION),
        _triggers("only would"),
        before=10,
        after=40,
    ),
    Pattern(
        "hindsight",
        re.compile(
            r"\bobviously\b"
            rf"|\b(?:was|were|is|are|been|seemed|seems|looked|looks|it{APOSTROPHE}s)\s+"
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
    Pattern(
        "hindsight",
        re.compile(
            rf"\bof\s+course,?\s+(?:(?:{ROLE}|he|she|they|we|someone|somebody)\b"
            r"|(?P<name>[a-z]+)\s+(?:should|could|would|knew|forgot|missed|ignored)\b)"
            r"|\b(?:simply|just|only)\s+(?:needed|had)\s+to\b"
            rf"|\ball\s+(?:{ROLE}|he|she|they|we|you|someone|somebody|i)\s+"
            r"(?:had|needed)\s+to\s+do\b"
            rf"|\b(?:it\s+was|it{APOSTROPHE}s)\s+easy\s+to\s+see\b"
            r"|\banyone\s+could\s+(?:see|tell)\b"
        ),
        _accept_of_course,
        _triggers("course needed had easy anyone"),
        before=45,
        after=40,
    ),
)
