"""CloudEvents 1.0 change events (deploys, config changes, flag flips, ...) into ChangeSignals.

Both HTTP modes: *structured* (the event, or a batch array of events, is the JSON body) and
*binary* (attributes in percent-encoded ``ce-*`` headers, ``data`` is the body). JSON
``null`` attributes count as absent, as the spec asks. Duplicates share ``(source, id)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import unquote

from warroom.domain.alerts.formats.fields import (
    MAX_KEY_CHARS,
    MAX_VALUE_BYTES,
    Problems,
    as_object,
    child,
    item,
    kind_of,
    parse_timestamp,
    read_json,
    text_problem,
)
from warroom.domain.alerts.signals import JsonValue
from warroom.domain.incidents.changes import FUTURE_SLACK
from warroom.domain.shared.timefmt import observed_problem

ChangeKindName = Literal["deploy", "config", "flag", "infra", "dependency"]
"""The values of ``warroom.domain.incidents.changes.ChangeKind``, as plain strings."""

MAX_BATCH_EVENTS = 1000
MAX_SUMMARY_CHARS = 1024
_REQUIRED = ("id", "source", "type")
_CONTEXT = ("specversion", *_REQUIRED, "subject", "time")
_NOT_ATTRIBUTES = ("data", "data_base64")
# Checked in order, so "com.example.feature.deployed" is a deploy, not a flag.
_KIND_WORDS: tuple[tuple[tuple[str, ...], ChangeKindName], ...] = (
    (("deploy",), "deploy"),
    (("config",), "config"),
    (("flag", "feature"), "flag"),
    (("infra",), "infra"),
    (("dependency", "incident"), "dependency"),
)


@dataclass(frozen=True, slots=True)
class ChangeSignal:
    """One change to a service, as announced by a CloudEvent.

    ``dedup`` is the event's ``(source, id)``. ``at`` is the event ``time``, else
    ``data.finished_at``, as aware UTC, within a change's window (1970 to five minutes
    after the receive time); None when the event carries neither (the caller then stamps
    the receipt time). ``details`` keeps every attribute sent, extensions
    included, plus ``data``.
    """

    dedup: tuple[str, str]
    service: str
    kind: ChangeKindName
    at: datetime | None
    summary: str
    details: Mapping[str, JsonValue]

    @property
    def dedup_key(self) -> str:
        """``dedup`` as one unambiguous string (a JSON pair), for a unique column."""
        return json.dumps(list(self.dedup), separators=(",", ":"), ensure_ascii=False)


def parse_change_event(
    body: object, *, headers: Mapping[str, str] | None = None, now: datetime | None = None
) -> list[ChangeSignal]:
    """Read the change events of one delivery.

    ``headers`` are the request headers as received (any case, values still
    percent-encoded). Binary mode applies when some header starts with ``ce-`` and the
    ``Content-Type`` is not ``application/cloudevents...``; ``body`` is then the decoded
    ``data``. Otherwise ``body`` is one structured event or an array of them.

    ``service`` comes from ``data.service``, else a ``subject`` like
    ``service/checkout-api[/...]``, else a ``service`` extension attribute. ``kind`` comes
    from words in ``type``: deploy; config; flag or feature; infra; dependency or incident.
    Raises :class:`InvalidAlertPayload` naming each offending attribute or field.

    A time outside a change's window (before 1970, more than five minutes after ``now``,
    the receive time) is refused naming its path: a change's time decides whether it
    shows as a suspect in an incident's change window, so it is never guessed. Without
    ``now`` only 1970 is checked.
    """
    problems = Problems()
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    media_type = lowered.get("content-type", "").split(";")[0].strip().lower()
    binary = any(name.startswith("ce-") for name in lowered)
    if binary and not media_type.startswith("application/cloudevents"):
        signals = [_read_binary(lowered, body, problems, now)]
    elif isinstance(body, list):
        if len(body) > MAX_BATCH_EVENTS:
            problems.fail("", f"holds {len(body)} events, more than {MAX_BATCH_EVENTS}")
        signals = [_read_structured(event, item("", i), problems, now) for i, event in enumerate(body)]
    elif isinstance(body, Mapping):
        signals = [_read_structured(body, "", problems, now)]
    else:
        problems.fail("", f"must be a CloudEvent object or an array of them, not {kind_of(body)}")
    problems.raise_if_any()
    return [signal for signal in signals if signal is not None]


def _read_structured(raw: object, path: str, problems: Problems, now: datetime | None) -> ChangeSignal | None:
    event = as_object(raw, path, problems)
    if event is None:
        return None
    if event.get("data") is not None and event.get("data_base64") is not None:
        problems.add(child(path, "data_base64"), "must not be sent together with data")
    attributes = {k: v for k, v in event.items() if k not in _NOT_ATTRIBUTES and v is not None}
    return _read_event(
        attributes, event.get("data"), lambda name: child(path, name), child(path, "data"), problems, now
    )


def _read_binary(
    headers: Mapping[str, str], data: object, problems: Problems, now: datetime | None
) -> ChangeSignal | None:
    attributes: dict[str, object] = {}
    for name, value in headers.items():
        if not name.startswith("ce-"):
            continue
        try:
            attributes[name[3:]] = unquote(value, errors="strict")
        except UnicodeDecodeError:
            problems.add(name, "is not valid percent-encoded UTF-8")
            attributes[name[3:]] = value  # present, so it is not also reported missing
    if "content-type" in headers:
        attributes["datacontenttype"] = headers["content-type"]
    return _read_event(attributes, data, lambda name: f"ce-{name}", "data", problems, now)


def _read_event(
    attributes: Mapping[str, object],
    data: object,
    name: Callable[[str], str],
    data_path: str,
    problems: Problems,
    now: datetime | None,
) -> ChangeSignal | None:
    complaints_before = len(problems)
    specversion = attributes.get("specversion")
    if specversion is None:
        problems.add(name("specversion"), "is required")
    elif specversion != "1.0":
        problems.add(name("specversion"), f'must be "1.0", not {specversion!r}')
    required = {key: _attribute(attributes, key, name, problems, True) for key in _REQUIRED}
    subject = _attribute(attributes, "subject", name, problems, False)
    at = _time(attributes.get("time"), name("time"), problems, now)
    if at is None and isinstance(data, Mapping) and "time" not in attributes:
        at = _time(data.get("finished_at"), child(data_path, "finished_at"), problems, now)
    service = _service(data, subject, attributes, data_path, problems)
    event_type = required["type"]
    kind = None if event_type is None else _kind(event_type, name("type"), problems)
    details = {
        # Context attributes were checked above; re-checking would repeat their complaints.
        key: str(value) if key in _CONTEXT else read_json(value, name(key), problems)
        for key, value in attributes.items()
    }
    if data is not None:
        details["data"] = read_json(data, data_path, problems)
    source, event_id = required["source"], required["id"]
    if len(problems) > complaints_before or not (source and event_id and service and kind):
        return None
    return ChangeSignal(
        dedup=(source, event_id),
        service=service,
        kind=kind,
        at=at,
        summary=_summary(service, kind, str(event_type), data)[:MAX_SUMMARY_CHARS],
        details=details,
    )


def _attribute(
    attributes: Mapping[str, object],
    key: str,
    name: Callable[[str], str],
    problems: Problems,
    required: bool,
) -> str | None:
    value = attributes.get(key)
    if value is None:
        if required:
            problems.add(name(key), "is required")
        return None
    if not isinstance(value, str):
        problems.add(name(key), f"must be a string, not {kind_of(value)}")
    elif not value.strip():
        problems.add(name(key), "must not be empty")
    elif (problem := text_problem(value, MAX_VALUE_BYTES)) is not None:
        problems.add(name(key), problem)
    else:
        return value
    return None


def _time(value: object, path: str, problems: Problems, now: datetime | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.add(path, f"must be an RFC 3339 time string, not {kind_of(value)}")
        return None
    try:
        at = parse_timestamp(value)
    except ValueError as error:
        problems.add(path, str(error))
        return None
    problem = observed_problem(at, now, ahead=FUTURE_SLACK)
    if problem is not None:
        problems.add(path, problem)
        return None
    return at


def _service(
    data: object,
    subject: str | None,
    attributes: Mapping[str, object],
    data_path: str,
    problems: Problems,
) -> str | None:
    where = child(data_path, "service")
    candidates: list[tuple[str, object]] = []
    if isinstance(data, Mapping) and data.get("service") is not None:
        candidates.append((where, data["service"]))
    if subject is not None and subject.startswith("service/"):
        candidates.append(("subject", subject.split("/")[1]))
    candidates.append(("service", attributes.get("service")))
    for path, value in candidates:
        if isinstance(value, str) and value.strip() and len(value) <= MAX_KEY_CHARS:
            return value.strip()
        if value is not None and path == where:
            problems.add(where, f"must be a service name of at most {MAX_KEY_CHARS} characters")
            return None
    problems.add(
        where,
        "is required (or a subject like service/<name>, or a service extension attribute)",
    )
    return None


def _kind(event_type: str, path: str, problems: Problems) -> ChangeKindName | None:
    lowered = event_type.lower()
    for words, kind in _KIND_WORDS:
        if any(word in lowered for word in words):
            return kind
    problems.add(
        path,
        f"{event_type!r} names no known change kind; it should contain deploy, config, "
        "flag, feature, infra, dependency or incident",
    )
    return None


def _summary(service: str, kind: ChangeKindName, event_type: str, data: object) -> str:
    """A one-line account of the change: versions, old and new values, or the data's own."""
    if isinstance(data, Mapping):
        version = _text(data.get("version"))
        if version:
            previous = _text(data.get("previous_version"))
            text = f"{service} {previous} → {version}" if previous else f"{service} {version}"
            status = _text(data.get("status"))
            return f"{text} ({status})" if status else text
        key = _text(data.get("key")) or _text(data.get("flag")) or _text(data.get("name"))
        if key and ("old" in data or "new" in data):
            return f"{key}: {_shown(data.get('old'))} → {_shown(data.get('new'))}"
        for field in ("summary", "description", "message"):
            text = _text(data.get(field))
            if text:
                return text.splitlines()[0]
    return f"{kind} change on {service} ({event_type})"


def _text(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _shown(value: object) -> str:
    if value is None:
        return "unset"
    return value if isinstance(value, str) else json.dumps(value)
