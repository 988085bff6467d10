"""Tail sampling and retention on the embedded store (SQLite and PostgreSQL): a trace is
judged only once it has been quiet for the decision wait; spans past the retention go."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from warroom.services.xray.retention import sample_and_expire

from .shop import shop

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_sampling_waits_for_quiet_traces_and_retention_bounds_the_store(
    database_url: str, build_app: Callable[..., Any]
) -> None:
    config = build_app(database_url).context.xray
    store, policy = config.store, config.sampling
    old = shop(61, 30, 0.5)
    fresh = shop(62, 30, 0.5)
    store.add(old, NOW - timedelta(hours=25))
    store.add(fresh, NOW - timedelta(seconds=5))  # within the decision wait: not judged yet
    done = sample_and_expire(store, policy, NOW)
    assert done.kept + done.dropped_spans + done.expired_spans > 0
    assert store.count() == len(fresh)  # the old ones are past the 24 h retention
    later = sample_and_expire(store, policy, NOW + timedelta(minutes=1))
    failed = {s.trace_id for s in fresh if s.error}
    kept = store.spans([], NOW - timedelta(days=300), NOW + timedelta(days=300), timeout=5, limit=10_000)
    assert failed <= {s.trace_id for s in kept}  # every error trace is kept, with weight 1
    assert all(s.weight == 1.0 for s in kept if s.trace_id in failed)
    assert all(s.weight == 10.0 for s in kept if s.trace_id not in failed)  # the 10% baseline
    assert later.kept == len({s.trace_id for s in kept})
    assert sample_and_expire(store, policy, NOW + timedelta(minutes=2)).kept == 0  # judged once
