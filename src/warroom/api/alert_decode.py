"""The fast path for Alertmanager and Grafana webhook bodies: raw bytes straight into typed
msgspec Structs, then the very signals :func:`parse_alert_body` would make.

It is an optimisation, never a second set of rules. Its types are chosen so that every body
it accepts is one the domain's parser accepts unchanged; for anything else (a malformed or
invalid body, or merely one it cannot prove ordinary) :func:`fast_batch` returns None and
the caller decodes and parses the long way, which words the 400s. What it declines:

- a body msgspec refuses: not an object, not UTF-8 JSON, a wrong type anywhere, ``null``
  where the parser wants a value, too deep, or a field the sender's format does not have
  (so every byte of an accepted body is decoded by type; nothing is skipped unread);
- ``\\u0000`` and ``\\ud...`` escapes, the only ways NUL and lone surrogates enter a string
  (a surrogate pair declines too; Go writes non-BMP characters raw);
- strings that might exceed their byte limit: a character is at most 4 UTF-8 bytes, so the
  types allow a quarter of each limit in characters;
- more than :data:`MAX_LABELS` entries, an empty label name, no labels, a status other than
  ``firing`` or ``resolved``, another ``version``, a ``truncatedAlerts`` that is not a
  non-negative integer within orjson's integers, and a malformed time (an implausible one is
  set aside, as the parser does, by the same routine :func:`plausible_time`).

Duplicate keys keep the last value, as orjson and ``json`` do. Grafana's extra fields go
through the parser's own readers (:func:`grafana_alert_extra`, :func:`grafana_body_extra`)
after orjson reads the free-form ones, so they are the parser's values to the bit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Literal, TypeVar

import msgspec
import orjson
from msgspec import Meta, Struct, field

from warroom.domain.alerts.formats.alertmanager import (
    ExtraReader,
    alert_signal,
    grafana_alert_extra,
    grafana_body_extra,
)
from warroom.domain.alerts.formats.fields import (
    IMPLAUSIBLE_TIMES,
    MAX_KEY_CHARS,
    MAX_LABELS,
    MAX_TEXT_BYTES,
    MAX_VALUE_BYTES,
    ImplausibleTime,
    Problems,
    plausible_time,
)
from warroom.domain.alerts.signals import AlertSignal, AlertSource, JsonValue, ParsedBatch

_CHARS = 4  # the most UTF-8 bytes one character takes
_Name = Annotated[str, Meta(min_length=1, max_length=MAX_VALUE_BYTES // _CHARS)]
_Value = Annotated[str, Meta(max_length=MAX_VALUE_BYTES // _CHARS)]
_Text = Annotated[str, Meta(max_length=MAX_TEXT_BYTES // _CHARS)]
_Key = Annotated[str, Meta(max_length=MAX_KEY_CHARS // _CHARS)]
_Time = Annotated[str, Meta(max_length=64)]  # parse_timestamp refuses longer ones
_Map = Annotated[dict[_Name, _Value], Meta(max_length=MAX_LABELS)]
_Labels = Annotated[dict[_Name, _Value], Meta(min_length=1, max_length=MAX_LABELS)]
_Count = Annotated[int, Meta(ge=0, le=2**63 - 1)]  # orjson reads larger integers as floats
_Status = Literal["firing", "resolved"]
_FREE_FORM = msgspec.Raw()  # absent: orjson reads a free-form field only when it is sent


class _Alert(Struct, forbid_unknown_fields=True, gc=False):
    status: _Status
    labels: _Labels
    annotations: _Map | None = None
    starts_at: _Time | None = field(name="startsAt", default=None)
    ends_at: _Time | None = field(name="endsAt", default=None)
    generator_url: _Text | None = field(name="generatorURL", default=None)
    fingerprint: _Key | None = None


class _GrafanaAlert(_Alert, forbid_unknown_fields=True, gc=False):
    # the parser's readers check these (grafana_alert_extra), so their types are loose
    silence_url: str | None = field(name="silenceURL", default=None)
    dashboard_url: str | None = field(name="dashboardURL", default=None)
    panel_url: str | None = field(name="panelURL", default=None)
    image_url: str | None = field(name="imageURL", default=None)
    value_string: str | None = field(name="valueString", default=None)
    values: msgspec.Raw = _FREE_FORM
    rule_uid: msgspec.Raw = field(name="ruleUID", default=_FREE_FORM)
    org_id: msgspec.Raw = field(name="orgId", default=_FREE_FORM)


class _Group(Struct, forbid_unknown_fields=True, gc=False, kw_only=True):
    """What Alertmanager says about the group, which Grafana says too."""

    status: _Status | None = None
    receiver: _Value | None = None
    group_key: _Text | None = field(name="groupKey", default=None)
    truncated_alerts: _Count | None = field(name="truncatedAlerts", default=None)
    external_url: _Text | None = field(name="externalURL", default=None)
    group_labels: _Map | None = field(name="groupLabels", default=None)
    common_labels: _Map | None = field(name="commonLabels", default=None)
    common_annotations: _Map | None = field(name="commonAnnotations", default=None)


class _Body(_Group, forbid_unknown_fields=True, gc=False, kw_only=True):
    alerts: list[_Alert]
    version: Literal["4"] | None = None


class _GrafanaBody(_Group, forbid_unknown_fields=True, gc=False, kw_only=True):
    alerts: list[_GrafanaAlert]
    version: Literal["1"] | None = None
    title: str | None = None  # the parser's readers check these three and orgId
    state: str | None = None
    message: str | None = None
    org_id: msgspec.Raw = field(name="orgId", default=_FREE_FORM)


_DECODERS: dict[str, msgspec.json.Decoder[_Body] | msgspec.json.Decoder[_GrafanaBody]] = {
    "alertmanager": msgspec.json.Decoder(_Body),
    "grafana": msgspec.json.Decoder(_GrafanaBody),
}
# NUL, and lone surrogates (or a pair); a regex finds them in one pass over the body
_ESCAPES = re.compile(rb"\\u(?:0000|[dD])")


_A = TypeVar("_A", bound=_Alert)


class _Declined(Exception):
    """Something the fast path cannot prove the parser would read the same way."""


def fast_batch(source: AlertSource, raw: bytes, now: datetime) -> ParsedBatch | None:
    """The batch :func:`parse_alert_body` would return for the body ``raw`` of ``source``,
    or None when this path declines it (then decode and parse as usual)."""
    decoder = _DECODERS.get(source)
    if decoder is None or not _plain_bytes(raw):
        return None
    try:
        body = decoder.decode(raw)
        if isinstance(body, _GrafanaBody):
            signals = _signals(body.alerts, "grafana", body.group_key, now, _grafana_alert_extra)
            return _batch(body, "grafana", signals, _grafana_body_extra(body))
        return _batch(body, "alertmanager", _signals(body.alerts, "alertmanager", body.group_key, now))
    except (msgspec.DecodeError, RecursionError, _Declined):
        return None


def _plain_bytes(raw: bytes) -> bool:
    """UTF-8 without an escape that would decode to NUL or a surrogate."""
    if _ESCAPES.search(raw) is not None:
        return False
    if raw.isascii():
        return True
    try:
        raw.decode("utf-8")  # msgspec does not check the bytes of a free-form (Raw) field
    except UnicodeDecodeError:
        return False
    return True


def _batch(
    body: _Body | _GrafanaBody,
    source: AlertSource,
    signals: list[AlertSignal],
    extra: dict[str, JsonValue] | None = None,
) -> ParsedBatch:
    return ParsedBatch(
        source=source,
        signals=signals,
        status=body.status,
        group_key=body.group_key or None,
        receiver=body.receiver,
        truncated_alerts=body.truncated_alerts or 0,
        external_url=body.external_url,
        group_labels=body.group_labels or {},
        common_labels=body.common_labels or {},
        common_annotations=body.common_annotations or {},
        extra={} if extra is None else extra,
    )


def _signals(
    alerts: Sequence[_A],
    source: AlertSource,
    group_key: str | None,
    now: datetime,
    alert_extra: Callable[[_A], dict[str, JsonValue]] | None = None,
) -> list[AlertSignal]:
    """The alerts' signals, made by the parser's :func:`alert_signal`. Each distinct time
    text is read once: a group's alerts mostly share ``endsAt`` (Go's zero time while
    firing) and often ``startsAt``."""
    group_key = group_key or None
    read: dict[str | None, datetime | None] = {None: None}
    signals = []
    for alert in alerts:
        extra = {} if alert_extra is None else alert_extra(alert)
        starts, ends = alert.starts_at, alert.ends_at
        starts_at = read[starts] if starts in read else _time(starts, "startsAt", extra, now, read)
        ends_at = read[ends] if ends in read else _time(ends, "endsAt", extra, now, read)
        signals.append(
            alert_signal(
                source,
                alert.status,
                alert.labels,
                alert.annotations or {},
                starts_at,
                ends_at,
                alert.generator_url,
                alert.fingerprint,
                group_key,
                extra,
            )
        )
    return signals


def _time(
    text: str | None,
    key: str,
    extra: dict[str, JsonValue],
    now: datetime,
    read: dict[str | None, datetime | None],
) -> datetime | None:
    """``text`` as the parser reads it (remembered in ``read``): an implausible time is set
    aside in ``extra`` as sent, a malformed one declines the body."""
    assert text is not None  # None is in read from the start
    try:
        parsed = read[text] = plausible_time(text, zero_is_absent=True, now=now)
    except ImplausibleTime:
        set_aside = extra.setdefault(IMPLAUSIBLE_TIMES, {})
        assert isinstance(set_aside, dict)
        set_aside[key] = text
        return None
    except ValueError:
        raise _Declined from None
    return parsed


def _grafana_alert_extra(alert: _GrafanaAlert) -> dict[str, JsonValue]:
    fields: dict[str, object] = {
        "silenceURL": alert.silence_url,
        "dashboardURL": alert.dashboard_url,
        "panelURL": alert.panel_url,
        "imageURL": alert.image_url,
        "valueString": alert.value_string,
        "values": _free_form(alert.values),
        "ruleUID": _free_form(alert.rule_uid),
        "orgId": _free_form(alert.org_id),
    }
    return _checked(grafana_alert_extra, fields)


def _grafana_body_extra(body: _GrafanaBody) -> dict[str, JsonValue]:
    fields: dict[str, object] = {
        "title": body.title,
        "state": body.state,
        "message": body.message,
        "orgId": _free_form(body.org_id),
    }
    return _checked(grafana_body_extra, fields)


def _free_form(value: msgspec.Raw) -> object:
    """A free-form field as orjson reads it (the parser's values, to the bit); None if absent."""
    if not value:
        return None
    try:
        return orjson.loads(memoryview(value))
    except orjson.JSONDecodeError:
        raise _Declined from None


def _checked(reader: ExtraReader, fields: dict[str, object]) -> dict[str, JsonValue]:
    """What the parser's ``reader`` makes of ``fields``; declined if it has a complaint."""
    problems = Problems()
    extra = reader(fields, "", problems)
    if problems:
        raise _Declined
    return extra
