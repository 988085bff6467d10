"""The words the blameless rules are made of, and how sure a subject is to be a person.

Regex fragments are lower case: patterns run on an ASCII-lower-cased copy of the text.
Where capitals are the evidence (names, "I"), ``kind_of`` reads the subject as written.
"""

from __future__ import annotations

import re
from typing import Literal


def words(text: str) -> frozenset[str]:
    """A set of the space-separated words of ``text``."""
    return frozenset(text.split())


APOSTROPHE = r"['\u2019]"
NOT = rf"(?:n{APOSTROPHE}t|\s+not)"
HAVE = rf"(?:\s+have|{APOSTROPHE}ve)"
NOT_OR_NEVER = rf"(?:{NOT}|\s+never)"
# A role ("the on-call", "the DBA", "the network engineer") or a group of people ("the
# ops team", "the site reliability team"): a determiner, up to two words naming the team,
# then a noun only people are. Modifiers go only before nouns no software is named with:
# "the secrets manager" and "the Kubernetes operator" are programs.
ROLE = (
    r"(?:the|an?|our|their|that|this|these|those)\s+(?:"
    r"(?:[a-z][\w-]*\s+){0,2}?(?:team|squad|crew|department|staff)s?(?:\s+members?)?"
    r"|(?:[a-z][\w-]*\s+)?(?:engineers?|developers?|analysts?|responders?)"
    r"|(?:(?:release|product|engineering|incident|project|program)\s+)?managers?"
    r"|(?:tech|team|incident|on-?call)\s+leads?"
    r"|on-?call(?:\s+engineers?)?|operators?|devs?|sres?|reviewers?|authors?|deployers?"
    r"|admin(?:istrator)?s?|interns?|new\s+hires?|contractors?|incident\s+commanders?|dbas?|qa"
    r"|employees?|person|people|humans?|leadership|management)"
)
# Any word: whether it is a pronoun, a name or neither is decided on the original text.
WORD = rf"[a-z]+(?:{APOSTROPHE}[a-z]+|-[a-z]+)?"
SUBJECT = rf"(?P<subject>{ROLE}|{WORD})"
ADVERB = r"(?:\w+ly|just|simply|never|also|again|still|then|even)"

# Verbs only people do.
STRONG = (
    r"(?P<strong>(?:(?:had|has|have)\s+)?(?:forgot(?:ten)?|neglected|overlooked|botched"
    r"|blundered|fumbled|(?:messed|screwed)\s+up|dropped\s+the\s+ball|never\s+bothered"
    r"|made\s+an?\s+(?:\w+\s+)?(?:mistake|error|blunder)"
    rf"|(?:was|were){NOT}\s+paying\s+attention"
    rf"|did{NOT}\s+(?P<dverb>bother|care|think|pay\s+attention|check|notice|follow"
    r"|test|verify|read|review|look|ask|escalate|validate|confirm|double-check"
    r"|communicate|update|tell|inform|document)))"
)
# Verbs systems do too: they need a human context unless the subject is surely a person.
WEAK = (
    r"(?P<weak>failed\s+to|ignored|missed|skipped|disregarded|caused|broke"
    r"|(?:was|is|were|are)\s+(?:to\s+blame|at\s+fault))"
)
HUMAN_ACTIONS = words(
    "check notice follow test verify read review look ask escalate validate confirm"
    " double-check communicate update tell inform document consider account catch spot"
    " acknowledge mention announce coordinate hand wait understand realize realise"
    " anticipate plan prepare pay heed listen remember raise flag declare investigate"
    " call"
)
BLAME_NOUN = r"(?:mistake|fault|error|blunder|oversight|negligence|carelessness|screw-?up)"
# "error rate", "fault tolerance": a compound noun about a system, not blame.
NOT_COMPOUND = (
    r"(?![-\s]+(?:rates?|ratio|budgets?|counts?|codes?|messages?|logs?|handling|handler"
    r"|pages?|paths?|spikes?|class|types?|responses?|metrics?|dashboards?|alerts?"
    r"|tolerance|tolerant|domains?|injection|detection|isolation)\b)"
)
PARTICIPLE = (
    r"(?:(?!(?:need|speed|seed|feed|red|bed|shed|bleed|breed|greed|weed|embed)\b)"
    r"[a-z][\w-]*ed|been|seen|known|shown|thrown|grown|drawn|blown|taken|given|written"
    r"|rewritten|broken|chosen|spoken|frozen|forgotten|gotten|driven|hidden|fallen"
    r"|woken|shaken|stolen|proven|mistaken|undertaken|caught|thought|taught|brought"
    r"|bought|sought|found|run|set|put|read|kept|left|made|sent|spent|built|held|told"
    r"|felt|lost|met|paid|said|stood|understood|begun|shut|cut|hit|let|split|done|gone"
    r"|led|fed|dealt|heard|stuck|got|become|come)\b"
)
CF_TAIL = (
    r"\s+(?:(?:\w+ly|just|simply|already|also|never|not|at\s+least|only)\s+)?"
    rf"(?P<pp>{PARTICIPLE})(?:\s+(?:back|up|out|over|down|off)\b)?"
)
# Participles of preventing: "could have avoided" judges what a person could have stopped.
PREVENTED = words("avoided prevented stopped caught averted spotted noticed")
# Participles that read as adjectives of possession ("should have automated rollback").
POSSESSION_ADJECTIVES = words(
    "automated dedicated documented defined isolated versioned pinned named signed"
    " scheduled distributed replicated bounded limited detailed"
)
FUNCTION_WORD_AFTER = re.compile(
    r"\s+(?:the|an?|this|that|these|those|it|them|him|her|his|their|our|its|back|up"
    r"|out|over|down|off|earlier|sooner|first|before|after|when|by|to|in|on|at|for"
    r"|with|more|less)\b|\s*[.,;:!?]|\s*$"
)
NOT_BEFORE = re.compile(rf"(?:\bnot|n{APOSTROPHE}t)\s+$")

# Capitalised words that are not names: sentence-initial nouns and common systems.
NOT_NAMES = words(
    "This That These Those It Its There Which What When Then Nothing Everything"
    " Something Nobody Everyone Traffic Load Latency Config Code Memory Disk Network"
    " Cache Retry Timeout Deploy Rollout Release Change Upgrade Migration Failover"
    " Backpressure Garbage Automation Tooling Kafka Nginx Envoy Terraform Docker Helm"
    " Consul Vault Istio Linux Java Python Prometheus Grafana Alertmanager Cassandra"
    " Mongo Memcached Celery Zookeeper Etcd Spinnaker Argo Cloudflare Fastly Akamai"
    " Redis Slack Jira Chef Puppet Lambda Storage Auth"
)
NOUN_SUFFIXES = ("ing", "tion", "sion", "ment", "ness", "ity", "ance", "ence", "ure", "age")
CAPITALISED = re.compile(r"[A-Z][a-z]+(?:['\u2019-][A-Z][a-z]+)?")


# Two clauses, one blaming: what was known ("everyone knew X", "it was obvious that X",
# "she was told X"), then a person who acted against it ("; Dave deployed anyway", ",
# but the SRE went ahead"). The first clause ends at a clause break in the sentence.
KNEW = (
    r"(?:every(?:one|body)\s+(?:knows|knew|was\s+aware|had\s+been\s+told)"
    r"|(?:we|they)\s+all\s+(?:knew|know)|all\s+of\s+us\s+knew"
    r"|(?:it|this|that)\s+was\s+(?:(?:(?:well|widely|commonly)[-\s]+)?(?:known|obvious|clear)"
    r"|common\s+knowledge)"
    r"|(?:was|were|had\s+been)\s+(?:warned|told|reminded|advised))"
)
CLAUSE_BREAK = r"(?:\s*[;,:\u2014]\s*|\s+-\s+|\s+(?=(?:and|but|yet)\s))(?:(?P<conj>and|but|yet|so)\s+)?"
# A one-word subject of a clause is not an article, a pointer to a thing or a
# conjunction: after "everyone knew the risk, and the alert fired" the search moves on.
NOT_A_SUBJECT = r"(?!(?:the|a|an|this|that|these|those|it|its|there|and|but|yet|so|or|then)\b)"
# Against what was known: words that say so by themselves, or "went ahead" after "but"
# or "yet" ("so the SRE went ahead" follows the knowledge). Not "still": "but the team
# still watched the graphs" is caution as often as defiance.
DEFIANCE = r"(?:anyway|anyhow|regardless(?!\s+of)|nonetheless|nevertheless|all\s+the\s+same)"

# Groups named without a determiner, capitalised as subjects are ("QA failed to test
# ..."); in lower case they are usually part of a compound ("config management failed").
GROUPS = words("QA SRE SREs Ops DevOps Management Leadership Engineering")
GROUPS_LOWER = frozenset(group.lower() for group in GROUPS)


def kind_of(subject: str) -> Literal["person", "maybe", "name", "word"]:
    """How sure it is that ``subject`` (as written) is a person: surely, maybe
    (they/we), a name-looking capitalised word, or not at all."""
    lowered = subject.lower()
    if lowered in ("they", "we"):
        return "maybe"
    if lowered in ("he", "she", "someone", "somebody") or subject == "I" or subject in GROUPS:
        return "person"
    if any(space.isspace() for space in subject):
        return "person"  # only roles ("the on-call") contain white space
    if not CAPITALISED.fullmatch(subject) or subject in NOT_NAMES:
        return "word"
    if lowered.endswith(NOUN_SUFFIXES):
        return "word"
    # Plurals ("Retries", "Deploys") are not names; "Chris" and "Marcus" are.
    if lowered.endswith("s") and not lowered.endswith(("ss", "us", "is", "as")):
        return "word"
    return "name"


def written(match: re.Match[str], group: str, text: str) -> str:
    """A group of a match on the lower-cased text, as written in the original."""
    return text[match.start(group) : match.end(group)]


SUBJECT_STARTERS = words(
    "the a an our their that this these those he she someone somebody they we his her my your"
)
