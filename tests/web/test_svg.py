"""The milestone strip is a pure function from milestone times to SVG markup."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from warroom.web.svg import STATIONS, milestone_strip

NS = {"svg": "http://www.w3.org/2000/svg"}
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)


def texts(root: ET.Element, css: str) -> list[str]:
    return [el.text or "" for el in root.iter(f"{{{NS['svg']}}}text") if css in el.get("class", "").split()]


def test_every_station_is_drawn_even_before_it_is_reached() -> None:
    root = parse(milestone_strip({"declared_at": T0}))
    labels = texts(root, "ms-label")
    assert labels == [label for _, label in STATIONS]
    dots = list(root.iter(f"{{{NS['svg']}}}circle"))
    pending = [d for d in dots if "ms-pending" in d.get("class", "")]
    assert len(dots) == 6 and len(pending) == 5


def test_gaps_between_consecutive_known_milestones_are_labelled() -> None:
    root = parse(
        milestone_strip(
            {
                "impact_started_at": T0,
                "detected_at": T0 + timedelta(minutes=7),
                "declared_at": T0 + timedelta(minutes=12, seconds=30),
                "mitigated_at": T0 + timedelta(hours=1, minutes=12, seconds=30),
            }
        )
    )
    # acknowledged is unknown, so declared -> mitigated is one gap
    assert texts(root, "ms-gap-label") == ["7m 00s", "5m 30s", "1h 00m"]
    assert texts(root, "ms-time")[:3] == ["10:00:00", "10:07:00", "10:12:30"]


def test_an_open_incident_shows_how_long_it_has_run_since_the_last_milestone() -> None:
    markup = milestone_strip({"declared_at": T0}, now=T0 + timedelta(minutes=3))
    assert texts(parse(markup), "ms-open-label") == ["+3m 00s"]


def test_a_resolved_incident_has_no_open_tail() -> None:
    markup = milestone_strip(
        {"declared_at": T0, "resolved_at": T0 + timedelta(hours=2)}, now=T0 + timedelta(hours=5)
    )
    assert texts(parse(markup), "ms-open-label") == []
    assert texts(parse(markup), "ms-gap-label") == ["2h 00m"]


def test_the_strip_is_accessible_and_names_the_day() -> None:
    root = parse(milestone_strip({"declared_at": T0, "detected_at": T0}, title_id="x"))
    assert root.get("role") == "img"
    title = root.find("svg:title", NS)
    assert title is not None and title.text == "Milestones (UTC, 2026-03-01)"
    desc = root.find("svg:desc", NS)
    assert desc is not None and "detected to declared: 0s" in (desc.text or "")


def test_the_caller_supplied_id_is_escaped() -> None:
    markup = milestone_strip({}, title_id='"><script>')
    assert "<script>" not in markup
    parse(markup)  # still well-formed
