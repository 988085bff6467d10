"""Alertmanager (``"version": "4"``) and Grafana (``"version": "1"``) webhook bodies.

Grafana's notifier is built on Alertmanager's, so both share one reader; Grafana adds a few
body and per-alert fields, which land in ``extra``. Each alert keeps its own status: a body
whose ``status`` is ``firing`` may carry alerts that are already resolved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    read_count,
    read_json,
    read_status,
    read_str,
    read_string_map,
    read_time,
    root_object,
)
from warroom.domain.alerts.signals import (
    AlertSignal,
    AlertSource,
    AlertStatus,
    JsonValue,
    ParsedBatch,
    default_summary,
    generic_fingerprint,
    normalize_severity,
)

ExtraReader = Callable[[Mapping[str, object], str, Problems], dict[str, JsonValue]]

# Grafana per-alert string fields kept in AlertSignal.extra, by their snake_case name.
_GRAFANA_ALERT_URLS = {
    "silenceURL": "silence_url",
    "dashboardURL": "dashboard_url",
    "panelURL": "panel_url",
    "imageURL": "image_url",
    "valueString": "value_string",
}


def parse_alertmanager(body: object, *, now: datetime | None = None) -> ParsedBatch:
    """Read an Alertmanager webhook body (``"version": "4"``) into a batch of signals.

    Each alert's ``fingerprint`` is its dedup key (:func:`generic_fingerprint` of its labels
    when missing); ``groupKey`` is kept on the batch and on every signal; an ``endsAt`` of
    ``0001-01-01T00:00:00Z`` means "not ended". A missing ``version`` is accepted, another
    version is refused. Raises :class:`InvalidAlertPayload` listing every problem.

    ``now`` is the receive time: a ``startsAt`` or ``endsAt`` outside the observed window
    (before 1970, more than a day after ``now``) reads as absent and is kept, as sent, in
    the signal's ``extra["implausible_times"]``. Without ``now`` only 1970 is checked.
    """
    return _parse(body, "alertmanager", "4", _no_extra, _no_extra, now)


def parse_grafana(body: object, *, now: datetime | None = None) -> ParsedBatch:
    """Read a Grafana unified-alerting webhook body (``"version": "1"``).

    The Alertmanager shape plus Grafana's fields: per alert ``silenceURL``,
    ``dashboardURL``, ``panelURL``, ``imageURL``, ``valueString``, ``values``, ``ruleUID``
    and ``orgId`` go to ``signal.extra`` (snake_case); ``title``, ``state``, ``message`` and
    ``orgId`` go to ``batch.extra``. A custom payload without an ``alerts`` list is refused
    with a message naming ``alerts``. Implausible times: as :func:`parse_alertmanager`.
    """
    return _parse(body, "grafana", "1", grafana_alert_extra, grafana_body_extra, now)


def _parse(
    body: object,
    source: AlertSource,
    version: str,
    alert_extra: ExtraReader,
    body_extra: ExtraReader,
    now: datetime | None,
) -> ParsedBatch:
    root = root_object(body)
    problems = Problems()
    sent_version = root.get("version")
    if sent_version is not None and sent_version != version:
        problems.add("version", f'must be "{version}" for {source}, not {sent_version!r}')
    raw_alerts = root.get("alerts")
    if not isinstance(raw_alerts, list):
        problems.fail("alerts", _missing_alerts(source, raw_alerts))
    group_key = read_str(root, "groupKey", "", problems, max_bytes=MAX_TEXT_BYTES) or None
    signals = []
    for index, raw in enumerate(raw_alerts):
        signal = _read_alert(raw, item("alerts", index), source, group_key, alert_extra, problems, now)
        if signal is not None:
            signals.append(signal)
    batch = ParsedBatch(
        source=source,
        signals=signals,
        status=read_status(root, "status", "", problems),
        group_key=group_key,
        receiver=read_str(root, "receiver", "", problems),
        truncated_alerts=read_count(root, "truncatedAlerts", "", problems),
        external_url=read_str(root, "externalURL", "", problems, max_bytes=MAX_TEXT_BYTES),
        group_labels=read_string_map(root, "groupLabels", "", problems),
        common_labels=read_string_map(root, "commonLabels", "", problems),
        common_annotations=read_string_map(root, "commonAnnotations", "", problems),
        extra=body_extra(root, "", problems),
    )
    problems.raise_if_any()
    return batch


def _missing_alerts(source: AlertSource, value: object) -> str:
    if value is not None:
        return f"must be an array of alerts, not {kind_of(value)}"
    if source == "grafana":
        return "is required; a Grafana custom payload must keep the default alerts list"
    return "is required"


def _read_alert(
    raw: object,
    path: str,
    source: AlertSource,
    group_key: str | None,
    alert_extra: ExtraReader,
    problems: Problems,
    now: datetime | None,
) -> AlertSignal | None:
    alert = as_object(raw, path, problems)
    if alert is None:
        return None
    status = read_status(alert, "status", path, problems, required=True)
    labels = read_string_map(alert, "labels", path, problems, required=True, non_empty=True)
    annotations = read_string_map(alert, "annotations", path, problems)
    implausible: dict[str, JsonValue] = {}
    starts_at = read_time(
        alert, "startsAt", path, problems, zero_is_absent=True, now=now, set_aside=implausible
    )
    ends_at = read_time(alert, "endsAt", path, problems, zero_is_absent=True, now=now, set_aside=implausible)
    generator_url = read_str(alert, "generatorURL", path, problems, max_bytes=MAX_TEXT_BYTES)
    sent_fingerprint = read_str(alert, "fingerprint", path, problems, max_bytes=MAX_KEY_CHARS)
    extra = alert_extra(alert, path, problems)
    if implausible:
        extra[IMPLAUSIBLE_TIMES] = implausible
    if status is None or not labels:
        return None
    return alert_signal(
        source,
        status,
        labels,
        annotations,
        starts_at,
        ends_at,
        generator_url,
        sent_fingerprint,
        group_key,
        extra,
    )


def alert_signal(
    source: AlertSource,
    status: AlertStatus,
    labels: dict[str, str],
    annotations: dict[str, str],
    starts_at: datetime | None,
    ends_at: datetime | None,
    generator_url: str | None,
    sent_fingerprint: str | None,
    group_key: str | None,
    extra: dict[str, JsonValue],
) -> AlertSignal:
    """The signal of one alert whose fields are read and checked: keyed by the sent
    fingerprint or, without one, by :func:`generic_fingerprint` of its labels."""
    fingerprint = sent_fingerprint or generic_fingerprint(labels)
    # Positional: keywords cost a third more per alert on the ingest hot path.
    return AlertSignal(
        source,
        fingerprint,
        status,
        labels,
        annotations,
        starts_at,
        ends_at,
        default_summary(labels, annotations, fingerprint),
        normalize_severity(labels.get("severity")),
        generator_url or None,
        group_key,
        extra,
    )


def _no_extra(obj: Mapping[str, object], path: str, problems: Problems) -> dict[str, JsonValue]:
    return {}


def grafana_alert_extra(alert: Mapping[str, object], path: str, problems: Problems) -> dict[str, JsonValue]:
    """Grafana's per-alert fields, checked, by their snake_case names (empty links left out)."""
    extra: dict[str, JsonValue] = {}
    for field, name in _GRAFANA_ALERT_URLS.items():
        value = read_str(alert, field, path, problems, max_bytes=MAX_TEXT_BYTES)
        if value:  # Grafana sends "" for an unlinked dashboard or panel.
            extra[name] = value
    for field, name in (("values", "values"), ("ruleUID", "rule_uid"), ("orgId", "org_id")):
        if alert.get(field) is not None:
            extra[name] = read_json(alert[field], child(path, field), problems)
    return extra


def grafana_body_extra(root: Mapping[str, object], path: str, problems: Problems) -> dict[str, JsonValue]:
    """Grafana's body fields, checked: ``title``, ``state``, ``message`` (cut) and ``org_id``."""
    extra: dict[str, JsonValue] = {}
    for field in ("title", "state"):
        value = read_str(root, field, path, problems, max_bytes=MAX_TEXT_BYTES)
        if value is not None:
            extra[field] = value
    message = read_str(root, "message", path, problems, max_bytes=None)
    if message is not None:
        # The templated message repeats the alerts; a long one is cut, not refused.
        extra["message"] = message[:MAX_TEXT_BYTES]
    if root.get("orgId") is not None:
        extra["org_id"] = read_json(root["orgId"], "orgId", problems)
    return extra
