"""Microbenchmark: decoding and checking Alertmanager webhook bodies, per alert (issue 19).

Goal: at most 4 us of CPU per alert for an ordinary body (``bench/ingest.py``'s 100-alert
bodies), with the very batch the parser makes. Three ways are timed, best of five runs over
200 bodies, in CPU time:

- ``orjson``: the JSON decode alone;
- ``long way``: orjson, then ``parse_alert_body`` (every field checked in Python), as the
  webhook parses a body the fast path declines;
- ``fast path``: ``warroom.api.alert_decode.fast_batch`` (msgspec Structs), what the
  webhook does first.

    .venv/bin/python bench/parse.py [--bodies 200] [--runs 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ingest.py puts src/ first

from ingest import PER_BODY, body

from warroom.api.alert_decode import fast_batch
from warroom.domain.alerts.formats import parse_alert_body

GOAL_US = 4.0


def best_per_alert(work: Callable[[bytes], object], bodies: list[bytes], runs: int) -> float:
    """The fastest run's CPU time per alert, in microseconds."""
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        for raw in bodies:
            work(raw)
        best = min(best, time.process_time() - started)
    return best / (len(bodies) * PER_BODY) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    now = datetime.now(UTC)
    bodies = [body(range(n * PER_BODY, (n + 1) * PER_BODY), "firing") for n in range(args.bodies)]

    def long_way(raw: bytes) -> object:
        return parse_alert_body("alertmanager", orjson.loads(raw), new_key=lambda: "", now=now)

    def fast(raw: bytes) -> object:
        return fast_batch("alertmanager", raw, now)

    for raw in bodies[:3]:
        batch = fast(raw)
        assert batch is not None, "the fast path declined an ordinary body"
        assert repr(batch) == repr(long_way(raw)), "the fast path read a body differently"
    print(f"{len(bodies)} bodies of {PER_BODY} alerts, {len(bodies[0])} bytes each; best of {args.runs}")
    figures = {
        "orjson": best_per_alert(orjson.loads, bodies, args.runs),
        "long way": best_per_alert(long_way, bodies, args.runs),
        "fast path": best_per_alert(fast, bodies, args.runs),
    }
    for name, figure in figures.items():
        print(f"  {name:<10} {figure:6.2f} us/alert")
    met = figures["fast path"] <= GOAL_US
    print(f"goal <= {GOAL_US} us/alert on the fast path: {'met' if met else 'NOT MET'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
