"""Importing history: the documented JSON and CSV shapes and PagerDuty's incident export;
a malformed file names its line and imports nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from warroom.domain.learning.history_import import MalformedHistory, guess_format, parse_history
from warroom.services.learning import operations as lops

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def _count(app: Any) -> int:
    with app.context.uow() as uow:
        return int(uow.learning.history_count())


def _import(app: Any, fmt: str, content: str) -> dict[str, Any]:
    return lops.import_history(app.context, "ops", {"format": fmt, "content": content})


GOOD = '{"id": "%s", "severity": "SEV2", "services": ["checkout"], "declared_at": "2026-01-05T10:00:00Z"}'


@pytest.mark.parametrize(
    ("fmt", "content", "line", "field"),
    [
        # a JSON syntax error: the decoder's own line
        ("json", "[\n" + GOOD % "a" + ",\n" + GOOD % "b" + ',\n  {"id": "c",, }\n]', 4, "json"),
        # the third incident's severity, on line 5 of the file
        (
            "json",
            "[\n" + GOOD % "a" + ",\n" + GOOD % "b" + ",\n\n" + (GOOD % "c").replace("SEV2", "SEV9") + "\n]",
            5,
            "severity",
        ),
        # JSON Lines: the second line has a time without a zone
        ("json", GOOD % "a" + "\n" + (GOOD % "b").replace("10:00:00Z", "10:00:00") + "\n", 2, "declared_at"),
        # {"incidents": [...]}: a repeated id
        ("json", '{"source": "x",\n "incidents": [\n' + GOOD % "a" + ",\n" + GOOD % "a" + "\n]}", 4, "id"),
        ("json", "[\n" + GOOD % "a" + ',\n {"id": "b", "severity": 2}\n]', 3, "declared_at"),
        (
            "json",
            "[\n" + GOOD % "a" + ',\n {"id": "b", "severity": 2, "declared_at": "2026-01-01T00:00:00Z",\n'
            ' "contributing_factors": ["blame"]}\n]',
            3,
            "contributing_factors",
        ),
        (
            "csv",
            (FIXTURES / "history.csv").read_text().replace("2026-02-20T08:02:00Z", "yesterday"),
            4,
            "acknowledged_at",
        ),
        (
            "csv",
            "id,severity,declared_at\na,SEV2,2026-01-01T00:00:00Z\nb,SEV2,2026-01-01T00:00:00Z,extra\n",
            3,
            "csv",
        ),
        (
            "csv",
            'id,severity,declared_at\na,SEV2,2026-01-01T00:00:00Z\n"b\nc",,2026-01-01T00:00:00Z\n',
            3,
            "severity",
        ),
        (
            "pagerduty",
            (FIXTURES / "pagerduty.csv").read_text().replace("2026-03-03T08:00:00-05:00", ""),
            3,
            "created_on",
        ),
        (
            "pagerduty",
            (FIXTURES / "pagerduty.csv").read_text().replace(",600,", ",ten minutes,"),
            3,
            "seconds_to_first_ack",
        ),
        # times outside the observed window: 1970 or later, at most a day after the import
        (
            "json",
            "[\n" + (GOOD % "a").replace("2026-01-05T10:00:00Z", "0001-01-01T00:00:01Z") + "\n]",
            2,
            "declared_at",
        ),
        ("json", "[\n" + (GOOD % "a")[:-1] + ', "resolved_at": "9999-12-31T23:59:59Z"}\n]', 2, "resolved_at"),
        (
            "json",
            (GOOD % "a")[:-1] + ', "followups_done_at": [null, "1969-07-20T20:17:40Z"]}\n',
            1,
            "followups_done_at[1]",
        ),
        ("csv", "id,severity,detected_at\na,SEV2,0001-01-01T00:00:00+01:00\n", 2, "detected_at"),
        ("pagerduty", "id,created_on,urgency\n1,0001-01-01 00:00:00 +0000,high\n", 2, "created_on"),
        ("pagerduty", "id,created_on,urgency\n1,9999-12-31 23:59:59 +0000,high\n", 2, "created_on"),
        (
            "pagerduty",
            "id,created_on,urgency,seconds_to_resolve\n1,2026-11-26 09:00:00 +0000,high,999999999\n",
            2,
            "seconds_to_resolve",
        ),
    ],
)
def test_a_malformed_file_names_its_line_and_imports_nothing(
    app: Any, fmt: str, content: str, line: int, field: str
) -> None:
    with pytest.raises(MalformedHistory) as refused:
        _import(app, fmt, content)
    assert (refused.value.line, refused.value.field) == (line, field), refused.value.message
    assert refused.value.message.startswith(f"line {line}: {field}: ")
    assert _count(app) == 0
    assert lops.report(app.context, {})["incidents"] == 0


def test_an_empty_file_is_malformed() -> None:
    with pytest.raises(MalformedHistory, match="line 1: file: is empty"):
        parse_history("  \n", "json", now=NOW)
    with pytest.raises(MalformedHistory, match="line 1: header"):
        parse_history("", "csv", now=NOW)


def test_pagerduty_export_maps_times_services_and_severities() -> None:
    items = {
        item.external_id: item
        for item in parse_history((FIXTURES / "pagerduty.csv").read_text(), "pagerduty", now=NOW)
    }
    first = items["PT4KHLK"]
    assert first.title == "[#1234] Checkout 5xx > 5%" and first.line == 2
    record = first.record
    assert record.services == ("checkout",) and record.severity == 2
    assert record.detected_at == record.declared_at
    assert record.acknowledged_at is not None and record.declared_at is not None
    assert (record.acknowledged_at - record.declared_at).total_seconds() == 120
    assert record.resolved_at is not None and record.resolved_at.isoformat() == "2026-03-02T10:45:00+00:00"
    second = items["PT4KHLM"].record  # no priority, low urgency; resolved from seconds_to_resolve
    assert second.severity == 4
    assert second.resolved_at is not None and second.resolved_at.isoformat() == "2026-03-03T13:30:00+00:00"
    third = items["PT4KHLN"].record  # "P1 - Critical", PagerDuty's older time format
    assert third.severity == 1 and third.acknowledged_at is None
    assert third.resolved_at is not None and third.declared_at is not None
    assert (third.resolved_at - third.declared_at).total_seconds() == 7200


def test_importing_twice_skips_what_is_already_there(app: Any) -> None:
    content = (FIXTURES / "history.json").read_text()
    assert _import(app, "json", content)["imported"] == 4
    assert _import(app, "json", content) == {"format": "json", "read": 4, "imported": 0, "skipped": 4}
    assert _count(app) == 4


def test_the_format_is_guessed_from_name_and_header() -> None:
    assert guess_format("history.json", "") == "json"
    assert guess_format("export.txt", '  [{"id": 1}]') == "json"
    assert guess_format("incidents.csv", (FIXTURES / "pagerduty.csv").read_text()[:200]) == "pagerduty"
    assert guess_format("incidents.csv", (FIXTURES / "history.csv").read_text()[:200]) == "csv"
    assert guess_format("x.csv", '"created_on","service_name"\n') == "pagerduty"


def test_unknown_format_is_refused(app: Any) -> None:
    from warroom.domain.shared.errors import ValidationError

    with pytest.raises(ValidationError) as refused:
        _import(app, "xml", "<incidents/>")
    assert refused.value.field == "format"
