"""Heartbeats: a monitoring pipeline proves it is alive by sending a signal every N minutes.

Alertmanager's always-firing ``Watchdog`` alert is the usual one: it arrives with every
repeat of the group, so its silence means the pipeline (Prometheus, Alertmanager, the
network to warroom) is broken and no other alert would arrive either. A monitor names
the labels that identify the beat (``alertname=Watchdog``) and, optionally, its source;
when no beat arrived within the interval, warroom pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from warroom.domain.oncall.people import require_name
from warroom.domain.shared.errors import ValidationError

SOURCES = ("any", "alertmanager", "grafana", "pagerduty", "generic")


@dataclass(frozen=True)
class Heartbeat:
    name: str
    interval: timedelta
    labels: tuple[tuple[str, str], ...]
    source: str = "any"
    policy: str | None = None
    last_seen: datetime | None = None
    created_at: datetime | None = None

    def matches(self, source: str, labels: Mapping[str, str]) -> bool:
        if self.source != "any" and source != self.source:
            return False
        return all(labels.get(key) == value for key, value in self.labels)

    def due_at(self) -> datetime | None:
        """When the pipeline counts as silent: the last beat (or the monitor's creation) plus the interval."""
        start = self.last_seen or self.created_at
        return start + self.interval if start is not None else None

    def silent(self, now: datetime) -> bool:
        due = self.due_at()
        return due is not None and now >= due


def heartbeat(
    name: str | None,
    interval_minutes: float,
    labels: Sequence[str] | Mapping[str, str],
    *,
    source: str = "any",
    policy: str | None = None,
) -> Heartbeat:
    """``labels`` as ``{"alertname": "Watchdog"}`` or ``["alertname=Watchdog"]``."""
    label = require_name(name, "name")
    if (
        isinstance(interval_minutes, bool)
        or not isinstance(interval_minutes, int | float)
        or not 1 <= interval_minutes <= 7 * 24 * 60
    ):
        raise ValidationError("interval_minutes", "must be between 1 and 10080 minutes")
    pairs: list[tuple[str, str]] = []
    items = labels.items() if isinstance(labels, Mapping) else [_pair(text) for text in labels]
    for key, value in items:
        if not key or not value:
            raise ValidationError("labels", "each label needs a name and a value, e.g. alertname=Watchdog")
        pairs.append((key, value))
    if not pairs:
        raise ValidationError("labels", "name at least one label the beat carries, e.g. alertname=Watchdog")
    if source not in SOURCES:
        raise ValidationError("source", f"{source!r} is not one of {', '.join(SOURCES)}")
    return Heartbeat(
        label,
        timedelta(minutes=interval_minutes),
        tuple(sorted(pairs)),
        source,
        require_name(policy, "policy") if policy else None,
    )


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep:
        raise ValidationError("labels", f"{text!r} is not name=value (e.g. alertname=Watchdog)")
    return key.strip(), value.strip().strip('"')
