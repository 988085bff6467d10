"""One time grammar for every time a person types (``timefmt.parse_when``), on the command
line as in the API: ISO 8601, dates, ``now``, ``yesterday 14:00``, ``10 minutes ago``,
``in 2h``, bare durations; a clear refusal naming the accepted forms for anything else."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, make_cli
from warroom.domain.shared.errors import ValidationError
from warroom.domain.shared.timefmt import TIME_FORMS, from_iso, parse_duration, parse_when

NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "back", "ahead"),
    [
        ("now", NOW, NOW),
        ("10 minutes ago", NOW - timedelta(minutes=10), NOW - timedelta(minutes=10)),
        ("5 MINUTES AGO", NOW - timedelta(minutes=5), NOW - timedelta(minutes=5)),
        ("2h ago", NOW - timedelta(hours=2), NOW - timedelta(hours=2)),
        ("1h 30m ago", NOW - timedelta(minutes=90), NOW - timedelta(minutes=90)),
        ("in 2h", NOW + timedelta(hours=2), NOW + timedelta(hours=2)),
        ("+30m", NOW + timedelta(minutes=30), NOW + timedelta(minutes=30)),
        ("2h", NOW - timedelta(hours=2), NOW + timedelta(hours=2)),
        ("14d", NOW - timedelta(days=14), NOW + timedelta(days=14)),
        ("2w", NOW - timedelta(weeks=2), NOW + timedelta(weeks=2)),
        ("90s", NOW - timedelta(seconds=90), NOW + timedelta(seconds=90)),
        (
            "yesterday 14:00",
            datetime(2026, 12, 3, 14, 0, tzinfo=UTC),
            datetime(2026, 12, 3, 14, 0, tzinfo=UTC),
        ),
        ("tomorrow 9:30", datetime(2026, 12, 5, 9, 30, tzinfo=UTC), datetime(2026, 12, 5, 9, 30, tzinfo=UTC)),
        ("today", datetime(2026, 12, 4, tzinfo=UTC), datetime(2026, 12, 4, 23, 59, 59, tzinfo=UTC)),
        ("2026-11-26", datetime(2026, 11, 26, tzinfo=UTC), datetime(2026, 11, 26, 23, 59, 59, tzinfo=UTC)),
        (
            "2026-11-26 10:00 UTC",
            datetime(2026, 11, 26, 10, tzinfo=UTC),
            datetime(2026, 11, 26, 10, tzinfo=UTC),
        ),
        ("2026-11-26T10:00Z", datetime(2026, 11, 26, 10, tzinfo=UTC), datetime(2026, 11, 26, 10, tzinfo=UTC)),
        (
            "2026-11-26T10:00+02:00",
            datetime(2026, 11, 26, 8, tzinfo=UTC),
            datetime(2026, 11, 26, 8, tzinfo=UTC),
        ),
    ],
)
def test_every_form_of_the_grammar(text: str, back: datetime, ahead: datetime) -> None:
    assert parse_when(text, "at", NOW) == back
    assert parse_when(text, "at", NOW, ahead=True, day_end=True) == ahead


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("soon", "is not a time; give an ISO 8601"),
        ("", "is empty; give"),
        ("   ", "is empty; give"),
        ("bad\x00time", "is not a time"),
        ("2h\x00 ago", "is not a time"),
        ("in 3h ago", "is not a time"),
        ("-2h", "is not a time"),
        ("10 parsecs ago", "is not a time"),
        ("999999999 weeks ago", "is too far from now"),
        ("99999999999999999999 days ago", "is not a time"),
        ("9" * 5000, "is not a time"),
        ("yesterday 25:00", "is not a time of day such as 14:00"),
        ("2026-13-45", "is not a date"),
        ("2026-11-26T10:00", "needs a timezone"),  # a local time would be a guess
        ("2026-11-26 10:00", "needs a timezone"),
        ("0001-01-01T00:00+01:00", "out of range"),
        ("\u202e2h ago", "is not a time"),
    ],
)
def test_anything_else_is_refused_naming_the_accepted_forms(text: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_when(text, "detected_at", NOW)
    assert caught.value.field == "detected_at"
    assert words in caught.value.message
    if words.startswith(("is not a time;", "is empty")):
        assert TIME_FORMS in caught.value.message


def test_durations_alone() -> None:
    assert parse_duration("1h30m", "every") == timedelta(minutes=90)
    assert parse_duration("2 weeks", "every") == timedelta(weeks=2)
    for bad in ("", "soon", "2h ago", "-5m", "99999999 weeks"):
        with pytest.raises(ValidationError):
            parse_duration(bad, "every")


# --- on the command line -------------------------------------------------------------------


@pytest.fixture
def any_db(tmp_path: Path, database_url: str) -> Iterator[Cli]:
    """A fresh home on SQLite and on PostgreSQL."""
    runner = make_cli(tmp_path, database_url)
    runner.ok("init")
    yield runner
    runner.close()


def _near(text: str, expected: datetime, slack: float = 60) -> None:
    found = from_iso(text)
    assert abs((found - expected).total_seconds()) <= slack, (text, expected)


def test_every_time_option_takes_the_grammar(any_db: Cli) -> None:
    now = datetime.now(UTC)
    room = any_db.ok(
        "declare", "--title", "Checkout 5xx", "-s", "checkout",
        "--detected-at", "10 minutes ago", "--impact-started-at", "25m", "--json",
    )  # fmt: skip
    _near(room["milestones"]["detected_at"]["at"], now - timedelta(minutes=10))
    _near(room["milestones"]["impact_started_at"]["at"], now - timedelta(minutes=25))
    change = any_db.ok(
        "change",
        "add",
        "--service",
        "checkout",
        "--kind",
        "deploy",
        "--summary",
        "v2",
        "--at",
        "2h ago",
        "--json",
    )
    _near(change["at"], now - timedelta(hours=2))
    added = any_db.ok(
        "followup", "add", "INC-1", "--title", "Add a canary", "--owner", "ana", "--due", "in 2w",
        "--kind", "prevent", "--json",
    )  # fmt: skip
    _near(added["due"], now + timedelta(weeks=2))
    report = any_db.ok("report", "--since", "30d", "--until", "now", "--json")
    assert report["incidents"] == 1
    assert any_db.ok("report", "--since", "in 1h", "--json")["incidents"] == 0
    silenced = any_db.ok("signals", "silence", "checkout", "--until", "2h", "--reason", "deploying", "--json")
    _near(silenced["until"], now + timedelta(hours=2))


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("declare", "--title", "t", "--detected-at", "whenever"), "detected_at"),
        (("declare", "--title", "t", "--detected-at", "in 2h"), "detected_at"),  # not yet happened
        (("declare", "--title", "t", "--detected-at", "999999999 weeks ago"), "detected_at"),
        (("declare", "--title", "t", "--detected-at", "60000 weeks ago"), "detected_at"),  # before 1970
        (("declare", "--title", "t", "--impact-started-at", "bad\x00"), "impact_started_at"),
        (("change", "add", "--service", "s", "--kind", "deploy", "--summary", "x", "--at", "tomorrow"), "at"),
        (
            (
                "followup",
                "add",
                "INC-1",
                "--title",
                "t",
                "--owner",
                "o",
                "--kind",
                "detect",
                "--due",
                "2h ago",
            ),
            "due",
        ),
        (
            ("followup", "add", "INC-1", "--title", "t", "--owner", "o", "--kind", "detect", "--due", "600w"),
            "due",
        ),
        (
            (
                "followup",
                "add",
                "INC-1",
                "--title",
                "t",
                "--owner",
                "o",
                "--kind",
                "detect",
                "--due",
                "x" * 5000,
            ),
            "due",
        ),
        (("report", "--since", "last quarter"), "since"),
        (("report", "--since", "now", "--until", "1d"), "until"),  # until before since
        (("signals", "silence", "s", "--until", "1h ago", "--reason", "r"), "until"),
        (("signals", "silence", "s", "--until", "\x00", "--reason", "r"), "until"),
        (("oncall", "now", "--at", "someday"), "at"),
        (("oncall", "now", "--at", "99999999999 days"), "at"),
    ],
)
def test_hostile_times_are_one_line_naming_the_option(
    seeded_times: Cli, args: tuple[str, ...], field: str
) -> None:
    line = seeded_times.refused(*args)
    assert line.startswith(f"error: {field}: "), line
    assert f"error: {field}: " in seeded_times.refused(*args, "--json")


@pytest.fixture(scope="module")
def seeded_times(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    home = tmp_path_factory.mktemp("times")
    cli = make_cli(home, f"sqlite:///{home / 'warroom.db'}")
    cli.ok("init")
    cli.ok("declare", "--title", "Checkout 5xx", "-s", "checkout")
    yield cli
    cli.close()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ("mitigate", "propose", "INC-1", "--title", "t", "--expected-minutes", "2 parsecs"),
            "expected_minutes: ",
        ),
        (("mitigate", "propose", "INC-1", "--title", "t", "--expected-minutes", "99999999w"), "is too long"),
        (
            ("mitigate", "propose", "INC-1", "--title", "t", "--expected-minutes", "1e999"),
            "expected_minutes: ",
        ),
        (
            ("mitigate", "propose", "INC-1", "--title", "t", "--expected-minutes", "5m\x00"),
            "expected_minutes: ",
        ),
        (("oncall", "shifts", "ana", "--days", "soon"), "days: 'soon' is not a duration such as 90s"),
        (("oncall", "schedule", "show", "primary", "--days", "-2w"), "days: "),
        (("oncall", "heartbeat", "add", "wd", "--every", "often", "--label", "a=b"), "interval_minutes: "),
    ],
)
def test_hostile_durations_are_one_line_naming_the_option(
    seeded_times: Cli, args: tuple[str, ...], words: str
) -> None:
    assert words in seeded_times.refused(*args)
    assert words in seeded_times.refused(*args, "--json")


def test_duration_options_take_a_number_in_their_unit_or_a_duration(seeded_times: Cli) -> None:
    proposed = seeded_times.ok(
        "mitigate", "propose", "INC-1", "--title", "Flag off", "--expected-minutes", "90s", "--json"
    )
    assert proposed["mitigations"][-1]["expected_minutes"] == 1.5
    proposed = seeded_times.ok(
        "mitigate", "propose", "INC-1", "--title", "Roll back", "--expected-minutes", "4", "--json"
    )
    assert proposed["mitigations"][-1]["expected_minutes"] == 4.0
    assert seeded_times.ok("oncall", "shifts", "nobody", "--days", "2w", "--json") == []
