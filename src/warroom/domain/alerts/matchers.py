"""Alertmanager-style label matchers, used to route alerts to services and teams.

``service=checkout``, ``job=~"checkout.*"``, ``env!="dev"``, ``region!~"us-.*"``; a list is
comma separated and may sit in braces: ``{service="checkout", env!="dev"}``.

Semantics follow Alertmanager, so routing rules copied from an Alertmanager config behave
the same: regexes are fully anchored (``checkout`` does not match ``checkout-api``), and a
missing label reads as the empty string (``env!="dev"`` matches an alert without ``env``,
``env=""`` matches only such alerts). Regexes use Python's ``re`` syntax, which agrees with
Go's RE2 on everything Alertmanager configs commonly use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_OPERATOR = re.compile(r"=~|!~|!=|=")
_SPACE = re.compile(r"\s*")


class MatchType(StrEnum):
    """How a matcher compares the label value with its own value."""

    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


class MatcherSyntaxError(ValueError):
    """A matcher that cannot be parsed; ``text`` is the offending matcher text."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"invalid matcher {text!r}: {reason}")
        self.text = text
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Matcher:
    """One ``name op value`` condition on a label set; a regex is compiled once, here.

    Raises :class:`MatcherSyntaxError` when ``name`` is empty or a regex does not compile.
    """

    name: str
    type: MatchType
    value: str
    _regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise MatcherSyntaxError(str(self), "the label name is empty")
        regex = None
        if self.type in (MatchType.REGEX, MatchType.NOT_REGEX):
            try:
                # Anchored like Alertmanager: the whole value must match.
                regex = re.compile(f"(?:{self.value})\\Z")
            except re.error as error:
                raise MatcherSyntaxError(str(self), f"bad regex: {error}") from None
        object.__setattr__(self, "_regex", regex)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this matcher; a missing label counts as ``""``."""
        actual = labels.get(self.name, "")
        if self._regex is not None:
            found = self._regex.match(actual) is not None
            return found if self.type is MatchType.REGEX else not found
        equal = actual == self.value
        return equal if self.type is MatchType.EQUAL else not equal

    def __str__(self) -> str:
        name = self.name if _NAME.fullmatch(self.name) else _quote(self.name)
        return f"{name}{self.type.value}{_quote(self.value)}"


def parse_matcher(text: str) -> Matcher:
    """Parse exactly one matcher, e.g. ``job=~"checkout.*"``.

    Raises :class:`MatcherSyntaxError` naming the offending text.
    """
    matchers = parse_matchers(text)
    if len(matchers) != 1:
        raise MatcherSyntaxError(text, f"expected one matcher, found {len(matchers)}")
    return matchers[0]


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """Parse comma-separated matchers, optionally wrapped in ``{...}``; ``{}`` gives none.

    Values are double-quoted (``\\"``, ``\\\\`` and ``\\n`` are escapes; other backslashes
    are kept, so ``"\\d+"`` stays a regex) or bare up to the next comma. Label names are
    Prometheus names or double-quoted strings. A trailing comma is allowed.
    """
    body = text.strip()
    if body.startswith("{"):
        if not body.endswith("}"):
            raise MatcherSyntaxError(text, "missing closing '}'")
        body = body[1:-1]
    matchers: list[Matcher] = []
    position = _skip_space(body, 0)
    while position < len(body):
        matcher, position = _scan_matcher(body, position)
        matchers.append(matcher)
        position = _skip_space(body, position)
        if position < len(body):
            if body[position] != ",":
                raise MatcherSyntaxError(_segment(body, position), "expected ',' between matchers")
            position = _skip_space(body, position + 1)
    return tuple(matchers)


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """Whether ``labels`` satisfy every matcher; no matchers match everything."""
    return all(matcher.matches(labels) for matcher in matchers)


def _scan_matcher(body: str, start: int) -> tuple[Matcher, int]:
    """Read one matcher starting at ``start``; return it and the position after it."""
    segment = _segment(body, start)
    if body.startswith('"', start):
        name, position = _scan_quoted(body, start, segment)
    else:
        found = _NAME.match(body, start)
        if found is None:
            raise MatcherSyntaxError(segment, "expected a label name")
        name, position = found.group(), found.end()
    position = _skip_space(body, position)
    operator = _OPERATOR.match(body, position)
    if operator is None:
        raise MatcherSyntaxError(segment, "expected one of =, !=, =~, !~ after the label name")
    position = _skip_space(body, operator.end())
    if body.startswith('"', position):
        value, position = _scan_quoted(body, position, segment)
    else:
        end = body.find(",", position)
        end = len(body) if end == -1 else end
        value, position = body[position:end].strip(), end
        if '"' in value:
            raise MatcherSyntaxError(segment, "the value contains an unescaped double quote")
    return Matcher(name, MatchType(operator.group()), value), position


def _scan_quoted(body: str, start: int, segment: str) -> tuple[str, int]:
    """Read a double-quoted string at ``start``; return its value and the position after."""
    chars: list[str] = []
    position = start + 1
    while position < len(body):
        char = body[position]
        if char == '"':
            return "".join(chars), position + 1
        if char == "\\" and position + 1 < len(body):
            escaped = body[position + 1]
            # Like Alertmanager: only \" \\ and \n are escapes; "\d" stays a regex class.
            chars.append({"n": "\n", '"': '"', "\\": "\\"}.get(escaped, "\\" + escaped))
            position += 2
            continue
        chars.append(char)
        position += 1
    raise MatcherSyntaxError(segment, "missing closing double quote")


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _skip_space(body: str, position: int) -> int:
    found = _SPACE.match(body, position)
    return position if found is None else found.end()


def _segment(body: str, start: int) -> str:
    """The text of the matcher starting at ``start``, for error messages."""
    rest = body[start:]
    return rest[:80] + ("..." if len(rest) > 80 else "")
