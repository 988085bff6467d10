"""warroom's own simple alert body, for senders that speak none of the known formats.

One alert object, or ``{"alerts": [...]}``; either may carry ``group_key`` (or
``groupKey``), the sender's grouping identity. Per alert:

- ``labels`` (required): a non-empty object of strings; routing matches on these.
- ``annotations``: an object of strings.
- ``status``: ``firing`` (default) or ``resolved``.
- ``starts_at`` / ``startsAt``, ``ends_at`` / ``endsAt``: RFC 3339 times with a zone; one
  before 1970 or more than a day after receipt reads as absent (the receive time is used)
  and is kept as sent in ``extra["implausible_times"]``.
- ``summary``: the title; else the ``summary`` annotation, ``alertname`` label, ...
- ``severity``: critical, error, warning or info (common synonyms such as ``warn`` or
  ``P1`` accepted); else the ``severity`` label when it is recognizable.
- ``fingerprint``: the dedup key; else :func:`generic_fingerprint` of the labels.
- ``generator_url`` / ``generatorURL``: a link back to the source.

``docs/webhooks.md`` documents the same shape for senders; keep the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from warroom.domain.alerts.formats.fields import (
    IMPLAUSIBLE_TIMES,
    MAX_KEY_CHARS,
    MAX_TEXT_BYTES,
    Problems,
    as_object,
    child,
    item,
    kind_of,
    read_status,
    read_str,
    read_string_map,
    read_time,
    root_object,
)
from warroom.domain.alerts.signals import (
    SEVERITIES,
    AlertSignal,
    JsonValue,
    ParsedBatch,
    Severity,
    default_summary,
    generic_fingerprint,
    normalize_severity,
)


def parse_generic(body: object, *, now: datetime | None = None) -> ParsedBatch:
    """Read a generic body (one alert object, or an object with an ``alerts`` array).

    Raises :class:`InvalidAlertPayload` naming every offending field by its JSON path.
    ``now`` is the receive time, for the observed window of the alert times.
    """
    root = root_object(body)
    problems = Problems()
    group_key = _read_either(root, "group_key", "groupKey", "", problems, MAX_TEXT_BYTES)
    if "alerts" not in root:
        signal = _read_alert(root, "", group_key, problems, now)
        problems.raise_if_any()
        return ParsedBatch(source="generic", signals=[signal] if signal else [], group_key=group_key)
    raw_alerts = root["alerts"]
    if not isinstance(raw_alerts, list):
        problems.fail("alerts", f"must be an array of alerts, not {kind_of(raw_alerts)}")
    signals = []
    for index, raw in enumerate(raw_alerts):
        path = item("alerts", index)
        alert = as_object(raw, path, problems)
        signal = None if alert is None else _read_alert(alert, path, group_key, problems, now)
        if signal is not None:
            signals.append(signal)
    problems.raise_if_any()
    return ParsedBatch(source="generic", signals=signals, group_key=group_key)


def _read_alert(
    alert: Mapping[str, object],
    path: str,
    group_key: str | None,
    problems: Problems,
    now: datetime | None,
) -> AlertSignal | None:
    labels = read_string_map(alert, "labels", path, problems, required=True, non_empty=True)
    annotations = read_string_map(alert, "annotations", path, problems)
    status = read_status(alert, "status", path, problems) or "firing"
    implausible: dict[str, JsonValue] = {}
    starts_at = _read_time_either(alert, "starts_at", "startsAt", path, problems, now, implausible)
    ends_at = _read_time_either(alert, "ends_at", "endsAt", path, problems, now, implausible)
    summary = read_str(alert, "summary", path, problems, max_bytes=MAX_TEXT_BYTES)
    severity = _read_severity(alert, path, problems)
    sent_fingerprint = read_str(alert, "fingerprint", path, problems, max_bytes=MAX_KEY_CHARS)
    generator_url = _read_either(alert, "generator_url", "generatorURL", path, problems, MAX_TEXT_BYTES)
    if not labels:
        return None
    fingerprint = sent_fingerprint.strip() if sent_fingerprint else ""
    fingerprint = fingerprint or generic_fingerprint(labels)
    return AlertSignal(
        source="generic",
        fingerprint=fingerprint,
        status=status,
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=ends_at,
        summary=(summary or "").strip() or default_summary(labels, annotations, fingerprint),
        severity=severity or normalize_severity(labels.get("severity")),
        generator_url=generator_url,
        group_key=group_key,
        extra={IMPLAUSIBLE_TIMES: implausible} if implausible else {},
    )


def _read_severity(alert: Mapping[str, object], path: str, problems: Problems) -> Severity | None:
    sent = read_str(alert, "severity", path, problems)
    if sent is None:
        return None
    severity = normalize_severity(sent)
    if severity is None:
        problems.add(child(path, "severity"), f"must be one of {', '.join(SEVERITIES)}, not {sent!r}")
    return severity


def _read_either(
    obj: Mapping[str, object],
    snake: str,
    camel: str,
    path: str,
    problems: Problems,
    max_bytes: int,
) -> str | None:
    """One string field that may be spelled two ways; giving both is a mistake."""
    if _both_given(obj, snake, camel, path, problems):
        return None
    key = snake if obj.get(snake) is not None else camel
    return read_str(obj, key, path, problems, max_bytes=max_bytes) or None


def _read_time_either(
    obj: Mapping[str, object],
    snake: str,
    camel: str,
    path: str,
    problems: Problems,
    now: datetime | None,
    set_aside: dict[str, JsonValue],
) -> datetime | None:
    if _both_given(obj, snake, camel, path, problems):
        return None
    key = snake if obj.get(snake) is not None else camel
    return read_time(obj, key, path, problems, zero_is_absent=True, now=now, set_aside=set_aside)


def _both_given(obj: Mapping[str, object], snake: str, camel: str, path: str, problems: Problems) -> bool:
    if obj.get(snake) is not None and obj.get(camel) is not None:
        problems.add(child(path, snake), f"give either {snake} or {camel}, not both")
        return True
    return False
