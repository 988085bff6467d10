"""Request counts and latencies, written as Prometheus text exposition by hand.

Labels are route templates (``/api/v1/incidents/{ref}``), never raw paths, so the series
count stays bounded whatever clients send; unmatched paths share one label.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterable, Mapping

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "unmatched"

Key = tuple[str, str, str]  # method, route, status


class RequestMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[Key, int] = {}
        self._buckets: dict[Key, list[int]] = {}
        self._sums: dict[Key, float] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, str(status))
        index = bisect_left(BUCKETS, seconds)
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            self._sums[key] = self._sums.get(key, 0.0) + seconds
            buckets = self._buckets.setdefault(key, [0] * (len(BUCKETS) + 1))
            buckets[index] += 1

    def count(self, method: str, route: str, status: int) -> int:
        with self._lock:
            return self._counts.get((method, route, str(status)), 0)

    def render(self) -> list[str]:
        with self._lock:
            counts = dict(self._counts)
            sums = dict(self._sums)
            buckets = {key: list(value) for key, value in self._buckets.items()}
        lines = [
            "# HELP warroom_http_requests_total HTTP requests answered, by method, route template and status.",
            "# TYPE warroom_http_requests_total counter",
        ]
        for key in sorted(counts):
            lines.append(f"warroom_http_requests_total{_labels(_names(key))} {counts[key]}")
        lines += [
            "# HELP warroom_http_request_duration_seconds Time to answer, by method, route template and status.",
            "# TYPE warroom_http_request_duration_seconds histogram",
        ]
        for key in sorted(buckets):
            labels = _names(key)
            running = 0
            for bound, hits in zip((*BUCKETS, None), buckets[key], strict=True):
                running += hits
                le = "+Inf" if bound is None else repr(bound)
                name = "warroom_http_request_duration_seconds_bucket"
                lines.append(f"{name}{_labels({**labels, 'le': le})} {running}")
            lines.append(f"warroom_http_request_duration_seconds_sum{_labels(labels)} {sums[key]:.6f}")
            lines.append(f"warroom_http_request_duration_seconds_count{_labels(labels)} {counts[key]}")
        return lines


def _names(key: Key) -> dict[str, str]:
    return {"method": key[0], "route": key[1], "status": key[2]}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Mapping[str, str]) -> str:
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in labels.items()) + "}"


def gauge(name: str, help_text: str, label: str, values: Mapping[str, float]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    lines += [f"{name}{_labels({label: key})} {_number(value)}" for key, value in values.items()]
    return lines


def labelled(name: str, help_text: str, rows: Iterable[tuple[Mapping[str, str], float]]) -> list[str]:
    """A gauge with any labels: one line per ``(labels, value)``."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    lines += [f"{name}{_labels(labels)} {_number(value)}" for labels, value in rows]
    return lines


def single(name: str, help_text: str, kind: str, value: float) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {_number(value)}"]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def exposition(blocks: Iterable[list[str]]) -> str:
    return "\n".join(line for block in blocks for line in block) + "\n"


def resident_memory_bytes() -> int | None:
    """The process's RSS from ``/proc`` (Linux); None elsewhere."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    import os

    return pages * os.sysconf("SC_PAGE_SIZE")
