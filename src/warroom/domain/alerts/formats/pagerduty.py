"""PagerDuty Events API v2 enqueue bodies (``trigger``, ``acknowledge``, ``resolve``) and change events.

Validated the way PagerDuty validates them, with PagerDuty's wording, so a sender pointed at
warroom instead of ``events.pagerduty.com`` gets the answers it already understands.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from warroom.domain.alerts.formats.cloudevents import ChangeKindName, ChangeSignal
from warroom.domain.alerts.formats.fields import (
    IMPLAUSIBLE_TIMES,
    MAX_KEY_CHARS,
    MAX_LABELS,
    MAX_TEXT_BYTES,
    MAX_VALUE_BYTES,
    Problems,
    TimeOutOfRange,
    fits,
    parse_timestamp,
    read_json,
    root_object,
    text_problem,
)
from warroom.domain.alerts.signals import SEVERITIES, AlertSignal, JsonValue, ParsedBatch, Severity
from warroom.domain.shared.timefmt import observed_problem

ROUTING_KEY_LENGTH = 32
MAX_SUMMARY_CHARS = 1024
EVENT_ACTIONS = ("trigger", "acknowledge", "resolve")
_LABEL_FIELDS = ("source", "component", "group", "class")
CHANGE_KINDS: tuple[ChangeKindName, ...] = ("deploy", "config", "flag", "infra", "dependency")
MAX_SERVICE_CHARS = 100


def parse_pagerduty(
    body: object, *, new_key: Callable[[], str], now: datetime | None = None, service: str | None = None
) -> ParsedBatch:
    """Read one Events v2 event into a batch of exactly one signal.

    ``dedup_key`` is the signal's fingerprint. A trigger without one gets ``new_key()``
    (called at most once; inject a UUID factory at the edge, a counter in tests), reported
    as ``batch.dedup_key`` with ``dedup_key_generated`` so the answer can return it.
    ``resolve`` gives status ``resolved``; ``trigger`` and ``acknowledge`` give ``firing``,
    with ``extra["event_action"]`` telling them apart. Labels come from ``payload.source``,
    ``component``, ``group`` and ``class``, then scalar ``custom_details`` that fit the label
    limits. ``service`` (the service the integration key in ``routing_key`` routes to) is
    the ``service`` label of every action, over any sent one. ``extra["routing_key"]`` keeps
    only the key's last four characters: the key is a credential. Raises
    :class:`InvalidAlertPayload` with PagerDuty-style messages.

    ``now`` is the receive time: a ``payload.timestamp`` outside the observed window (before
    1970, more than a day after ``now``) reads as absent, kept as sent in
    ``extra["implausible_times"]``. Without ``now`` only 1970 is checked.
    """
    root = root_object(body)
    problems = Problems()
    routing_key = routing_key_of(root, problems)
    action = _event_action(root, problems)
    dedup_key = _dedup_key(root, action, problems)
    trigger = _trigger(root, problems, now) if action == "trigger" else None
    extra = _extra(root, problems)
    problems.raise_if_any()
    assert routing_key is not None and action is not None  # else a problem was raised

    generated = dedup_key is None
    key = new_key() if dedup_key is None else dedup_key
    extra |= {"routing_key": mask_key(routing_key), "event_action": action, "dedup_key_generated": generated}
    if trigger is not None and trigger.custom_details is not None:
        extra["custom_details"] = trigger.custom_details
    if trigger is not None and trigger.implausible:
        extra[IMPLAUSIBLE_TIMES] = dict(trigger.implausible)
    labels = trigger.labels if trigger else {}
    if service is not None:
        labels = labels | {"service": service}
    signal = AlertSignal(
        source="pagerduty",
        fingerprint=key,
        status="resolved" if action == "resolve" else "firing",
        labels=labels,
        annotations={},
        starts_at=trigger.starts_at if trigger else None,
        ends_at=None,
        summary=trigger.summary if trigger else f"{action} {key}",
        severity=trigger.severity if trigger else None,
        extra=extra,
    )
    return ParsedBatch(source="pagerduty", signals=[signal], dedup_key=key, dedup_key_generated=generated)


def mask_key(routing_key: str) -> str:
    """A routing key as recorded and shown: all but its last four characters hidden."""
    return "****" + routing_key[-4:]


def routing_key_of(root: Mapping[str, object], problems: Problems) -> str | None:
    """The body's ``routing_key``, checked as PagerDuty checks it (32 letters and digits)."""
    value = root.get("routing_key")
    if value is None or value == "":
        problems.add_message("'routing_key' is missing or blank")
        return None
    if not isinstance(value, str):
        problems.add_message("'routing_key' must be a string")
        return None
    if len(value) != ROUTING_KEY_LENGTH:
        problems.add_message(
            f"Length of 'routing_key' is incorrect (should be {ROUTING_KEY_LENGTH} characters)"
        )
    if not (value.isascii() and value.isalnum()):
        problems.add_message("'routing_key' cannot contain non-alphanumeric characters.")
    return value


def _event_action(root: Mapping[str, object], problems: Problems) -> str | None:
    value = root.get("event_action")
    if value is None or value == "":
        problems.add_message("'event_action' is missing or blank")
        return None
    if value not in EVENT_ACTIONS:
        problems.add_message(f"'event_action' is invalid (should be one of {', '.join(EVENT_ACTIONS)})")
        return None
    return str(value)


def _dedup_key(root: Mapping[str, object], action: str | None, problems: Problems) -> str | None:
    """The sent key; None for a trigger without one (a fresh key is made later)."""
    value = root.get("dedup_key")
    if value is not None and not isinstance(value, str):
        problems.add_message("'dedup_key' must be a string")
        return None
    if value is None or not value.strip():
        if action in ("acknowledge", "resolve"):
            problems.add_message("'dedup_key' is missing or blank")
        return None
    if (problem := text_problem(value, None)) is not None:
        problems.add_message(f"'dedup_key' {problem}")
        return None
    if len(value) > MAX_KEY_CHARS:
        problems.add_message(
            f"Length of 'dedup_key' is incorrect (should be at most {MAX_KEY_CHARS} characters)"
        )
        return None
    return value


@dataclass(frozen=True, slots=True)
class _Trigger:
    """The validated ``payload`` of a trigger event."""

    summary: str
    severity: Severity
    starts_at: datetime | None
    labels: dict[str, str]
    custom_details: JsonValue
    implausible: dict[str, JsonValue]


def _trigger(root: Mapping[str, object], problems: Problems, now: datetime | None) -> _Trigger | None:
    payload = root.get("payload")
    if payload is None:
        problems.add_message("'payload' is missing or blank")
        return None
    if not isinstance(payload, Mapping):
        problems.add_message("'payload' must be an object")
        return None
    complaints_before = len(problems)
    summary = _payload_str(payload, "summary", problems, required=True)
    if summary is not None and len(summary) > MAX_SUMMARY_CHARS:
        problems.add_message(
            f"Length of 'payload.summary' is incorrect (should be at most {MAX_SUMMARY_CHARS} characters)"
        )
    severity = _payload_str(payload, "severity", problems, required=True)
    if severity is not None and severity not in SEVERITIES:
        problems.add_message(f"'payload.severity' is invalid (should be one of {', '.join(SEVERITIES)})")
    fields = {}
    for name in _LABEL_FIELDS:
        value = _payload_str(payload, name, problems, required=name == "source")
        if value is not None:
            fields[name] = value
    starts_at = None
    implausible: dict[str, JsonValue] = {}
    timestamp = _payload_str(payload, "timestamp", problems, required=False)
    if timestamp is not None:
        try:
            starts_at = parse_timestamp(timestamp)
        except TimeOutOfRange:
            implausible["payload.timestamp"] = timestamp
        except ValueError as error:
            problems.add_message(f"'payload.timestamp' is invalid: {error}")
        if starts_at is not None and observed_problem(starts_at, now) is not None:
            starts_at = None
            implausible["payload.timestamp"] = timestamp
    details: JsonValue = None
    if payload.get("custom_details") is not None:
        details = read_json(payload["custom_details"], "payload.custom_details", problems)
    if len(problems) > complaints_before or summary is None or severity is None:
        return None
    return _Trigger(summary, SEVERITIES[severity], starts_at, _labels(fields, details), details, implausible)


def _payload_str(
    payload: Mapping[str, object], name: str, problems: Problems, *, required: bool
) -> str | None:
    value = payload.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.add_message(f"'payload.{name}' is missing or blank")
        return None
    if not isinstance(value, str):
        problems.add_message(f"'payload.{name}' must be a string")
        return None
    if (problem := text_problem(value, None)) is not None:
        problems.add_message(f"'payload.{name}' {problem}")
        return None
    limit = MAX_TEXT_BYTES if name == "summary" else MAX_VALUE_BYTES
    if not fits(value, limit):
        problems.add_message(f"Length of 'payload.{name}' is incorrect (should be at most {limit} bytes)")
        return None
    return value


def _extra(root: Mapping[str, object], problems: Problems) -> dict[str, JsonValue]:
    extra: dict[str, JsonValue] = {}
    for name in ("client", "client_url"):
        value = root.get(name)
        if value is None:
            continue
        if isinstance(value, str) and text_problem(value, MAX_TEXT_BYTES) is None:
            extra[name] = value
        else:
            problems.add_message(f"'{name}' must be a string of at most {MAX_TEXT_BYTES} bytes")
    for name in ("links", "images"):
        value = root.get(name)
        if value is None:
            continue
        if isinstance(value, list):
            extra[name] = read_json(value, name, problems)
        else:
            problems.add_message(f"'{name}' must be an array")
    return extra


def _labels(fields: dict[str, str], details: JsonValue) -> dict[str, str]:
    """Payload fields first, then scalar custom details while they fit the label limits."""
    labels = dict(fields)
    if not isinstance(details, dict):
        return labels
    for name, value in details.items():
        if len(labels) >= MAX_LABELS:
            break
        text = _scalar_text(value)
        if text is None or name in labels or not name:
            continue
        if fits(name, MAX_VALUE_BYTES) and fits(text, MAX_VALUE_BYTES):
            labels[name] = text
    return labels


def _scalar_text(value: JsonValue) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)  # true/false and numbers as JSON writes them
    return None


def parse_pagerduty_change(body: object, *, service: str | None, new_key: Callable[[], str]) -> ChangeSignal:
    """Read one Change Events API body (``/v2/change/enqueue``) into a change.

    Required: ``routing_key`` (checked as for alerts) and ``payload.summary`` (at most 1024
    characters); ``payload.source``, ``timestamp``, ``custom_details`` and ``links`` are
    optional, and there is no ``event_action``. The change's service is ``service`` (the
    integration key's), else ``payload.custom_details.service``; its kind is
    ``custom_details.kind`` when that names one of :data:`CHANGE_KINDS`, else ``deploy``.
    Its time is ``payload.timestamp`` (None: the receipt time). The dedup key is a hash of
    the service and the body without ``routing_key``, so a client's retry stores nothing
    new; a body without a timestamp gets ``new_key()`` instead, since two of them may be
    two changes. Raises :class:`InvalidAlertPayload` with PagerDuty-style messages.
    """
    root = root_object(body)
    problems = Problems()
    routing_key_of(root, problems)
    payload = root.get("payload")
    summary = timestamp = origin = None
    at: datetime | None = None
    details: JsonValue = None
    if payload is None:
        problems.add_message("'payload' is missing or blank")
    elif not isinstance(payload, Mapping):
        problems.add_message("'payload' must be an object")
    else:
        summary = _payload_str(payload, "summary", problems, required=True)
        if summary is not None and len(summary) > MAX_SUMMARY_CHARS:
            problems.add_message(
                f"Length of 'payload.summary' is incorrect (should be at most {MAX_SUMMARY_CHARS} characters)"
            )
        origin = _payload_str(payload, "source", problems, required=False)
        timestamp = _payload_str(payload, "timestamp", problems, required=False)
        if timestamp is not None:
            try:
                at = parse_timestamp(timestamp)
            except ValueError as error:
                problems.add_message(f"'payload.timestamp' is invalid: {error}")
        if payload.get("custom_details") is not None:
            details = read_json(payload["custom_details"], "payload.custom_details", problems)
    extra = _extra(root, problems)
    target = service or _detail(details, "service")
    if target is None:
        problems.add_message(
            "the change names no service: give the integration key a service, "
            "or send 'payload.custom_details.service'"
        )
    elif len(target) > MAX_SERVICE_CHARS:
        problems.add_message(
            f"'payload.custom_details.service' is longer than {MAX_SERVICE_CHARS} characters"
        )
    problems.raise_if_any()
    assert summary is not None and target is not None and isinstance(payload, Mapping)
    wanted = _detail(details, "kind")
    kind: ChangeKindName = next((k for k in CHANGE_KINDS if k == wanted), "deploy")
    unkeyed = {name: value for name, value in root.items() if name != "routing_key"}
    digest = (
        hashlib.sha256(json.dumps([target, unkeyed], sort_keys=True).encode()).hexdigest()[:32]
        if timestamp is not None
        else new_key()
    )
    kept: dict[str, JsonValue] = {"payload.source": origin} if origin is not None else {}
    if details is not None:
        kept["custom_details"] = details
    return ChangeSignal(
        dedup=("pagerduty", f"{target}/{digest}"),
        service=target,
        kind=kind,
        at=at,
        summary=summary,
        details=kept | extra,
    )


def _detail(details: JsonValue, name: str) -> str | None:
    value = details.get(name) if isinstance(details, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else None
