"""The normalized alert's helpers: dedup fingerprints, severity spellings, summaries."""

from __future__ import annotations

import pytest

from warroom.domain.alerts.signals import default_summary, generic_fingerprint, normalize_severity


def test_the_generic_fingerprint_ignores_label_order() -> None:
    first = generic_fingerprint({"service": "checkout", "alertname": "HighErrorRatio"})
    second = generic_fingerprint({"alertname": "HighErrorRatio", "service": "checkout"})

    assert first == second


def test_the_generic_fingerprint_is_sixteen_hex_characters_and_stable_across_releases() -> None:
    # Pinned: changing the canonical form would split every stored alert in two.
    assert generic_fingerprint({"alertname": "X", "service": "Y"}) == "25d1ea1ead1b4106"


def test_any_change_to_names_or_values_changes_the_generic_fingerprint() -> None:
    base = generic_fingerprint({"a": "b"})

    assert generic_fingerprint({"a": "c"}) != base
    assert generic_fingerprint({"b": "b"}) != base
    assert generic_fingerprint({"a": "b", "c": ""}) != base
    # Naive concatenation would make these two collide.
    assert generic_fingerprint({"a": "b=c"}) != generic_fingerprint({"a=b": "c"})


@pytest.mark.parametrize(
    ("sent", "normalized"),
    [
        ("critical", "critical"),
        ("CRIT", "critical"),
        (" P1 ", "critical"),
        ("error", "error"),
        ("high", "error"),
        ("warn", "warning"),
        ("Warning", "warning"),
        ("info", "info"),
        ("low", "info"),
        ("whatever", None),
        ("", None),
        (None, None),
    ],
)
def test_severity_spellings_normalize_to_four_levels(sent: str | None, normalized: str) -> None:
    assert normalize_severity(sent) == normalized


def test_a_summary_comes_from_annotations_then_the_alert_name_then_the_key() -> None:
    labels = {"alertname": "HighErrorRatio"}

    assert default_summary(labels, {"summary": " Checkout 5xx ", "title": "T"}, "k") == ("Checkout 5xx")
    assert default_summary(labels, {"title": "T"}, "k") == "T"
    assert default_summary(labels, {"description": "\nLine one\nLine two"}, "k") == "Line one"
    assert default_summary(labels, {"summary": "  "}, "k") == "HighErrorRatio"
    assert default_summary({}, {}, "fp-1") == "fp-1"
