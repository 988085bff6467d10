"""Webhook body parsers: decoded JSON in, normalized signals out, no I/O and no clock.

Import parsers from here; the modules beside this one hold one format each (``alertmanager``,
``pagerduty``, ``generic``, ``cloudevents``) and ``fields`` reads JSON fields with paths.

- :func:`parse_alertmanager` and :func:`parse_grafana` -> :class:`ParsedBatch`
- :func:`parse_pagerduty` (Events v2 enqueue body) -> :class:`ParsedBatch`
- :func:`parse_pagerduty_change` (Events v2 change event) -> :class:`ChangeSignal`
- :func:`parse_generic` (warroom's own simple shape) -> :class:`ParsedBatch`
- :func:`parse_change_event` (CloudEvents 1.0) -> ``list[ChangeSignal]``
- :func:`parse_alert_body` picks the alert parser by source name

Every parser tolerates unknown fields and raises :class:`InvalidAlertPayload` whose
``errors`` name each offending field by its JSON path. ``docs/webhooks.md`` documents the
bodies for senders.

Parsers have no clock: the edge passes the receive time as ``now``, against which every
time in a body is checked (the observed window of ``warroom.domain.shared.timefmt``). An
alert's implausible time is set aside (it reads as absent, so the receive time is used,
and is kept as sent in ``extra["implausible_times"]``); a change's is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from warroom.domain.alerts.formats.alertmanager import parse_alertmanager, parse_grafana
from warroom.domain.alerts.formats.cloudevents import ChangeKindName, ChangeSignal, parse_change_event
from warroom.domain.alerts.formats.fields import (
    MAX_LABELS,
    MAX_VALUE_BYTES,
    InvalidAlertPayload,
    parse_timestamp,
)
from warroom.domain.alerts.formats.generic import parse_generic
from warroom.domain.alerts.formats.pagerduty import parse_pagerduty, parse_pagerduty_change
from warroom.domain.alerts.signals import ALERT_SOURCES, AlertSignal, AlertSource, ParsedBatch

__all__ = [
    "ALERT_SOURCES",
    "MAX_LABELS",
    "MAX_VALUE_BYTES",
    "AlertSignal",
    "AlertSource",
    "ChangeKindName",
    "ChangeSignal",
    "InvalidAlertPayload",
    "ParsedBatch",
    "parse_alert_body",
    "parse_alertmanager",
    "parse_change_event",
    "parse_generic",
    "parse_grafana",
    "parse_pagerduty",
    "parse_pagerduty_change",
    "parse_timestamp",
]


def parse_alert_body(
    source: AlertSource, body: object, *, new_key: Callable[[], str], now: datetime
) -> ParsedBatch:
    """Parse ``body`` with the parser of ``source``; ``new_key`` is used by PagerDuty only,
    ``now`` (the receive time) bounds the plausible alert times."""
    if source == "pagerduty":
        return parse_pagerduty(body, new_key=new_key, now=now)
    return _PARSERS[source](body, now=now)


_PARSERS: dict[str, Callable[..., ParsedBatch]] = {
    "alertmanager": parse_alertmanager,
    "grafana": parse_grafana,
    "generic": parse_generic,
}
