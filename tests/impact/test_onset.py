"""``left_slo_at`` is found at the resolution of the data, not of the probe's step, and
never later than detection when the data went bad before it (issue 13, item 4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.impact.fakes import ERRORS, LATENCY, REGIONS, T0, FakeClock, FakeMetrics, regional, traffic
from tests.impact.test_triage_service import probe_context
from warroom.domain.impact.onset import aligned, closer_look, fine_step, first_breach, whole_step
from warroom.services import operations as ops

# Detection comes 7 s into a 15 s step of the probe; the first bad sample 5 s before it.
DETECTED = T0 - timedelta(minutes=10) + timedelta(seconds=7)
FIRST_BAD = DETECTED - timedelta(seconds=5)


def _fault(region: str) -> Callable[[datetime], float]:
    return lambda at: 0.4 if region == "eu-west" and at >= FIRST_BAD else 0.002


def test_left_slo_at_is_the_first_bad_sample_before_detection_not_detection_itself(
    sqlite_url: str, build_app: Callable[..., Any]
) -> None:
    metrics = FakeMetrics()
    regional(metrics, ERRORS, {r: _fault(r) for r in REGIONS})
    regional(metrics, LATENCY, {r: (lambda at: 0.12) for r in REGIONS})
    traffic(metrics)
    ctx = probe_context(build_app(sqlite_url, clock=FakeClock(T0)), metrics)
    body = {"title": "shop failing in Europe", "services": ["shop"], "detected_at": DETECTED.isoformat()}
    ref = str(ops.declare(ctx, "alice", body)["id"])

    ops.triage(ctx, "alice", ref, {})

    payload = ops.timeline(ctx, ref)[-1]["payload"]
    assert payload["impact_start_from"] == "detected_at"
    left = datetime.fromisoformat(payload["left_slo_at"])
    assert left <= DETECTED
    assert FIRST_BAD <= left <= FIRST_BAD + timedelta(seconds=1)  # the probe's 1 s resolution
    [errors] = [i for i in payload["services"][0]["indicators"] if i["name"] == "error_ratio"]
    assert errors["left_slo_at"] == payload["left_slo_at"]


def test_the_probe_steps_sit_on_the_epoch_grid_of_their_length() -> None:
    step = timedelta(seconds=15)
    at = datetime(2026, 3, 1, 11, 50, 7, 250_000, tzinfo=UTC)
    assert aligned(at, step) == datetime(2026, 3, 1, 11, 50, 0, tzinfo=UTC)
    assert aligned(aligned(at, step), step) == aligned(at, step)
    assert whole_step(timedelta(seconds=2.2)) == timedelta(seconds=3)
    assert whole_step(timedelta(milliseconds=10)) == timedelta(seconds=1)


def test_the_closer_look_spans_the_step_before_the_first_bad_evaluation() -> None:
    step = timedelta(seconds=15)
    left = datetime(2026, 3, 1, 11, 50, 15, tzinfo=UTC)
    assert closer_look(None, step) is None
    assert closer_look(left, step) == (left - step, left)
    window = (left - step, left)
    assert fine_step(window, timedelta(seconds=1), 10_000) == timedelta(seconds=1)
    assert fine_step(window, timedelta(seconds=1), 5) == timedelta(seconds=3)


def test_the_first_breach_skips_missing_values_and_honours_lower_is_worse() -> None:
    t = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    points = [(t + timedelta(seconds=s), v) for s, v in ((0, 1.0), (1, float("nan")), (2, 0.5), (3, 0.2))]
    assert first_breach(points, t, t + timedelta(seconds=9), slo=0.6, higher_is_worse=False) == t + timedelta(
        seconds=2
    )
    assert first_breach(points, t, t + timedelta(seconds=9), slo=0.6, higher_is_worse=True) == t
    assert (
        first_breach(
            points, t + timedelta(seconds=3), t + timedelta(seconds=9), slo=0.6, higher_is_worse=True
        )
        is None
    )
