"""Alertmanager-style label matchers: parsing, matching semantics and error messages."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warroom.domain.alerts.matchers import (
    Matcher,
    MatcherSyntaxError,
    MatchType,
    matches_all,
    parse_matcher,
    parse_matchers,
)

CHECKOUT = {"service": "checkout", "job": "checkout-api", "env": "prod", "region": "eu-west"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("service=checkout", Matcher("service", MatchType.EQUAL, "checkout")),
        ('service="checkout"', Matcher("service", MatchType.EQUAL, "checkout")),
        ('job=~"checkout.*"', Matcher("job", MatchType.REGEX, "checkout.*")),
        ('env!="dev"', Matcher("env", MatchType.NOT_EQUAL, "dev")),
        ('region!~"us-.*"', Matcher("region", MatchType.NOT_REGEX, "us-.*")),
        ("  service = checkout  ", Matcher("service", MatchType.EQUAL, "checkout")),
        ("env=", Matcher("env", MatchType.EQUAL, "")),
    ],
)
def test_each_operator_parses_with_quoted_or_bare_values(text: str, expected: Matcher) -> None:
    assert parse_matcher(text) == expected


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("service=checkout", True),
        ("service=payments", False),
        ('job=~"checkout.*"', True),
        ('job=~"checkout"', False),
        ('env!="dev"', True),
        ('env!="prod"', False),
        ('region!~"us-.*"', True),
        ('region!~"eu-.*"', False),
    ],
)
def test_matchers_compare_like_alertmanager(text: str, matches: bool) -> None:
    assert parse_matcher(text).matches(CHECKOUT) is matches


def test_a_regex_must_match_the_whole_value_not_a_part_of_it() -> None:
    matcher = parse_matcher('job=~"checkout"')

    assert matcher.matches({"job": "checkout"})
    assert not matcher.matches({"job": "checkout-api"})
    assert not matcher.matches({"job": "new-checkout"})
    assert not matcher.matches({"job": "checkout\n"})


def test_an_alternation_is_anchored_as_a_whole() -> None:
    matcher = parse_matcher('service=~"cart|checkout"')

    assert matcher.matches({"service": "cart"})
    assert not matcher.matches({"service": "cart-v2"})
    assert not matcher.matches({"service": "my-checkout"})


def test_a_missing_label_reads_as_the_empty_string() -> None:
    assert parse_matcher('env!="dev"').matches({})
    assert parse_matcher('env=""').matches({})
    assert not parse_matcher('env=""').matches({"env": "prod"})
    assert parse_matcher('env=~"(prod|)"').matches({})


def test_a_list_may_sit_in_braces_and_end_with_a_comma() -> None:
    matchers = parse_matchers('{service="checkout", env!="dev", job=~"checkout.*",}')

    assert [str(matcher) for matcher in matchers] == [
        'service="checkout"',
        'env!="dev"',
        'job=~"checkout.*"',
    ]


def test_empty_braces_and_an_empty_string_give_no_matchers() -> None:
    assert parse_matchers("{}") == ()
    assert parse_matchers("   ") == ()


def test_commas_and_braces_inside_quotes_belong_to_the_value() -> None:
    matchers = parse_matchers('{route=~"/api/(cart|checkout)", note="a,b}"}')

    assert [m.value for m in matchers] == ["/api/(cart|checkout)", "a,b}"]


def test_quoted_values_unescape_quotes_backslashes_and_newlines_only() -> None:
    assert parse_matcher(r'msg="say \"hi\""').value == 'say "hi"'
    assert parse_matcher(r'path="C:\\temp"').value == "C:\\temp"
    assert parse_matcher(r'text="a\nb"').value == "a\nb"
    assert parse_matcher(r'code=~"5\d\d"').value == r"5\d\d"
    assert parse_matcher(r'code=~"5\d\d"').matches({"code": "503"})


def test_a_quoted_label_name_allows_characters_beyond_prometheus_names() -> None:
    matcher = parse_matcher('"k8s.io/app"="checkout"')

    assert matcher.name == "k8s.io/app"
    assert matcher.matches({"k8s.io/app": "checkout"})
    assert str(matcher) == '"k8s.io/app"="checkout"'


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("service", "expected one of =, !=, =~, !~"),
        ('service="a"b', "expected ',' between matchers"),
        ('service="checkout', "missing closing double quote"),
        ("=checkout", "expected a label name"),
        ('job=~"(checkout"', "bad regex"),
        ('{service="checkout"', "missing closing '}'"),
        ('service="checkout" env="prod"', "expected ',' between matchers"),
        ('service=check"out', "unescaped double quote"),
    ],
)
def test_syntax_errors_name_the_offending_text(text: str, reason: str) -> None:
    with pytest.raises(MatcherSyntaxError) as raised:
        parse_matchers(text)

    assert reason in str(raised.value)
    assert raised.value.text in text or text in raised.value.text


def test_the_error_for_a_list_quotes_the_matcher_that_failed() -> None:
    with pytest.raises(MatcherSyntaxError) as raised:
        parse_matchers('service="checkout", job=~"(broken"')

    assert raised.value.text == 'job=~"(broken"'
    assert "job=~" in str(raised.value)


def test_parse_matcher_wants_exactly_one() -> None:
    with pytest.raises(MatcherSyntaxError, match="expected one matcher, found 2"):
        parse_matcher("a=b, c=d")
    with pytest.raises(MatcherSyntaxError, match="found 0"):
        parse_matcher("{}")


def test_a_bad_regex_is_refused_when_the_matcher_is_built_not_when_it_is_used() -> None:
    with pytest.raises(MatcherSyntaxError, match="bad regex"):
        Matcher("job", MatchType.REGEX, "a[")


def test_an_empty_label_name_is_refused() -> None:
    with pytest.raises(MatcherSyntaxError, match="label name is empty"):
        Matcher("", MatchType.EQUAL, "x")


def test_matches_all_needs_every_matcher_and_no_matchers_match_everything() -> None:
    matchers = parse_matchers('service="checkout", env!="dev"')

    assert matches_all(matchers, CHECKOUT)
    assert not matches_all(matchers, {**CHECKOUT, "env": "dev"})
    assert matches_all((), {})


def test_matchers_are_values_that_can_be_hashed_and_compared() -> None:
    first = parse_matcher('job=~"checkout.*"')
    second = Matcher("job", MatchType.REGEX, "checkout.*")

    assert first == second
    assert len({first, second}) == 1


@given(
    name=st.from_regex(re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,10}"), fullmatch=True),
    value=st.text(max_size=20),
    match_type=st.sampled_from([MatchType.EQUAL, MatchType.NOT_EQUAL]),
)
def test_a_matcher_printed_and_parsed_again_is_the_same_matcher(
    name: str, value: str, match_type: MatchType
) -> None:
    matcher = Matcher(name, match_type, value)

    assert parse_matcher(str(matcher)) == matcher


@given(value=st.text(max_size=20))
def test_an_escaped_literal_regex_matches_exactly_that_value(value: str) -> None:
    matcher = Matcher("label", MatchType.REGEX, re.escape(value))

    assert matcher.matches({"label": value})
    assert not matcher.matches({"label": value + "x"})
