"""The room's impact charts: well-formed SVG with the band, the SLO line and the milestones."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

from tests.impact.fakes import T0
from warroom.domain.shared.timefmt import iso
from warroom.web.impact_chart import Marker, impact_chart, impact_panel, milestones_of
from warroom.web.templating import render

SVG = "{http://www.w3.org/2000/svg}"
START = T0 - timedelta(hours=1)


def record(values: list[float | None] | None = None, **extra: Any) -> dict[str, Any]:
    values = values if values is not None else [0.002] * 100 + [0.13] * 20
    return {
        "service": "shop",
        "name": "error_ratio",
        "kind": "error_ratio",
        "unit": "errors",
        "slo": 0.05,
        "status": "measured",
        "current": values[-1],
        "breaching": True,
        "reference": 0.002,
        "threshold": 0.024,
        "baseline": {"source": "healthy_window"},
        "line": "error_ratio 13% (baseline 0.2%, SLO 5%; stable); region=eu-west 40% errors",
        "chart": {
            "start": iso(START),
            "end": iso(T0),
            "step_seconds": 3600 / len(values),
            "values": values,
            "focus": {"name": "region=eu-west", "values": [v * 3 if v else v for v in values]},
        },
    } | extra


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on markup that is not well-formed


def only(root: ET.Element, css: str) -> list[ET.Element]:
    return [e for e in root.iter() if e.get("class") == css]


def test_the_chart_draws_the_series_the_worst_slice_the_baseline_band_and_the_slo() -> None:
    root = parse(impact_chart(record()))

    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert len(only(root, "ic-line")) == 1 and len(only(root, "ic-focus")) == 1
    [band] = only(root, "ic-band")
    [slo] = only(root, "ic-slo")
    # y grows downwards: the SLO (5%) sits above the band (0.2% +- 2.4 points).
    assert float(slo.get("y1", 0)) < float(band.get("y", 0))
    assert only(root, "ic-slo-label")[0].text == "SLO 5%"
    description = root.find(f"{SVG}desc")
    assert description is not None and description.text is not None
    assert "now 13%" in description.text and "baseline 0.2%" in description.text


def test_milestones_inside_the_hour_are_marked_and_the_others_said_in_the_description() -> None:
    markers = [
        Marker("impact start", T0 - timedelta(minutes=10)),
        Marker("declared", T0 - timedelta(minutes=6)),
        Marker("M1 applied", T0 - timedelta(minutes=2)),
        Marker("resolved", T0 + timedelta(minutes=5)),
    ]

    root = parse(impact_chart(record(), markers))

    labels = [e.text for e in only(root, "ic-marker-label")]
    assert labels == ["impact start", "declared", "M1 applied"]
    description = root.find(f"{SVG}desc")
    assert description is not None and "outside the chart: resolved 12:05:00" in str(description.text)
    xs = [float(e.get("x1", 0)) for e in only(root, "ic-marker")]
    assert xs == sorted(xs)


def test_a_gap_in_the_data_breaks_the_line_instead_of_bridging_it() -> None:
    values: list[float | None] = [0.01] * 40 + [None] * 10 + [0.01] * 40 + [None] + [0.02]

    root = parse(impact_chart(record(values)))

    drawn = only(root, "ic-line")
    # two runs of points as lines, and the lone last point as a dot
    assert [e.tag.removeprefix(SVG) for e in drawn] == ["polyline", "polyline", "circle"]


def test_without_a_baseline_there_is_no_band() -> None:
    root = parse(impact_chart(record(baseline={"source": "none"})))

    assert only(root, "ic-band") == []


def test_text_from_the_catalog_is_escaped() -> None:
    hostile = record(service='<script>alert("x")</script>', name="a&b", unit="<u>", kind="latency")

    svg = impact_chart(hostile, [Marker("<b>M1</b> applied", T0 - timedelta(minutes=1))])

    assert "<script>" not in svg and "<b>" not in svg
    parse(svg)


def room_view(measured: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": "INC-7",
        "severity": "SEV3",
        "measured": measured,
        "milestones": {
            "declared_at": {"at": iso(T0 - timedelta(minutes=6))},
            "impact_started_at": {"at": iso(T0 - timedelta(minutes=10))},
        },
        "mitigations": [{"ref": "M1", "applied_at": iso(T0 - timedelta(minutes=2))}, {"ref": "M2"}],
    }


def measured(**extra: Any) -> dict[str, Any]:
    return {
        "status": "measured",
        "measured_at": iso(T0),
        "summary": "shop error_ratio 13% ...; measured SEV2",
        "severity": "SEV2",
        "explanation": "SEV2: customer impact 13% >= 5%",
        "services": [{"service": "shop", "indicators": [record(), {"name": "x", "status": "error"}]}],
    } | extra


def test_the_panel_takes_its_markers_from_the_room_and_charts_every_measured_indicator() -> None:
    view = room_view(measured())

    panel = impact_panel(view)

    assert [m.label for m in milestones_of(view)] == ["impact start", "declared", "M1 applied"]
    assert panel is not None and [c["title"] for c in panel["charts"]] == ["shop error_ratio"]
    assert panel["blind"] is None


def test_a_blind_probe_keeps_the_last_good_charts_under_its_message() -> None:
    blind = {
        "status": "unavailable",
        "summary": "impact probe blind: Prometheus at http://p refused",
        "last_good": measured(),
    }

    panel = impact_panel(room_view(blind))
    html = render("_impact.html", incident=room_view(blind), impact=panel)

    assert panel is not None and panel["blind"] == "impact probe blind: Prometheus at http://p refused"
    assert len(panel["charts"]) == 1
    assert 'class="alert"' in html and "impact probe blind" in html and "<svg" in html


def test_the_partial_renders_without_charts_and_before_any_measurement() -> None:
    lines = render("_impact.html", incident=room_view(measured()))
    never = render("_impact.html", incident=room_view(None))

    assert "shop error_ratio 13% (baseline 0.2%" in lines and "<svg" not in lines
    assert "Measured impact suggests SEV2, declared SEV3" in lines
    # until the probe measured: an empty, hidden slot the live room can fill in place
    assert never.strip() == '<section id="impact" data-live hidden></section>'
