"""The X-ray's window: the stated impact start, else where the impact probe saw the impact
begin (``left_slo_at``), else the latest ``window_minutes``; never detection alone, whose
first failed traces would otherwise count in the baseline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from warroom.services.xray.config import XrayConfig
from warroom.services.xray.report import window_of

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
CONFIG = XrayConfig(source=None, store=None, window_minutes=30)


class State:
    def __init__(self, **milestones: datetime) -> None:
        self.milestones = milestones
        self.measured: dict[str, object] | None = None

    def at(self, name: str) -> datetime | None:
        return self.milestones.get(name)


def window(state: State, onset: datetime | None) -> tuple[datetime, datetime, str]:
    """``onset``: the ``left_slo_at`` of the incident's last recorded measurement."""
    state.measured = {"left_slo_at": onset.isoformat() if onset else None}
    return window_of(state, CONFIG, NOW)  # type: ignore[arg-type]


def test_a_stated_impact_start_wins_over_the_probe_onset() -> None:
    stated = NOW - timedelta(minutes=12)
    assert window(State(impact_started_at=stated), NOW - timedelta(minutes=5)) == (
        stated,
        NOW,
        "impact_started_at",
    )


def test_without_a_stated_start_the_probe_onset_starts_the_window() -> None:
    onset = NOW - timedelta(seconds=40)
    detected = NOW - timedelta(seconds=25)
    assert window(State(detected_at=detected), onset) == (onset, NOW, "left_slo_at")


def test_a_resolved_incident_ends_at_resolution() -> None:
    onset, resolved = NOW - timedelta(minutes=20), NOW - timedelta(minutes=5)
    assert window(State(resolved_at=resolved), onset) == (onset, resolved, "left_slo_at")


@pytest.mark.parametrize(
    "onset",
    [None, NOW - timedelta(hours=2), NOW + timedelta(minutes=1), NOW],
    ids=["none", "older than the longest window", "in the future", "at the end"],
)
def test_otherwise_the_latest_window_minutes(onset: Any) -> None:
    assert window(State(), onset) == (NOW - timedelta(minutes=30), NOW, "latest")
