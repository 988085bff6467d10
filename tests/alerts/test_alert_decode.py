"""The msgspec fast path reads an Alertmanager or Grafana body exactly as the parser does,
or declines it: it never accepts what the long way refuses, nor reads a body differently.

The long way is what the webhook did before the fast path: ``hooks._decode`` (orjson, then
the standard library) and :func:`parse_alert_body`. Batches are compared by their ``repr``,
which also tells dict order, ``1`` from ``1.0`` and ``True`` from ``1`` apart.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warroom.api.alert_decode import fast_batch
from warroom.api.hooks import Refused, _decode
from warroom.domain.alerts.formats import InvalidAlertPayload, ParsedBatch, parse_alert_body

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "webhooks"
NOW = datetime(2026, 11, 26, 22, 30, tzinfo=UTC)


def long_way(source: str, raw: bytes) -> ParsedBatch | None:
    """The batch of the parser, or None when the webhook would answer 400."""
    try:
        return parse_alert_body(source, _decode(raw), new_key=lambda: "generated", now=NOW)  # type: ignore[arg-type]
    except (Refused, InvalidAlertPayload, RecursionError):
        return None


def same_or_declined(source: str, raw: bytes) -> bool:
    """Holds the property for one body; True when the fast path took it."""
    fast = fast_batch(source, raw, NOW)  # type: ignore[arg-type]
    if fast is None:
        return False
    slow = long_way(source, raw)
    assert slow is not None, f"the fast path accepted a body the parser refuses: {raw[:300]!r}"
    assert repr(fast) == repr(slow)
    return True


# --- JSON written by hand: duplicate keys, Go's escapes, raw bytes ------------------------


class Obj:
    """A JSON object as a list of members, so that a name may repeat."""

    def __init__(self, members: list[tuple[str, Any]]) -> None:
        self.members = members


def encode(value: Any, style: str) -> bytes:
    """``value`` as JSON text: ``plain`` (UTF-8), ``ascii`` (``\\u`` escapes, pairs for
    non-BMP characters) or ``go`` (as Go's encoding/json: ``<>&`` escaped, UTF-8 otherwise)."""
    return _text(value, style).encode("utf-8", "surrogatepass")  # a lone surrogate as raw bytes


def _text(value: Any, style: str) -> str:
    if isinstance(value, Obj):
        return "{" + ",".join(f"{_text(k, style)}:{_text(v, style)}" for k, v in value.members) + "}"
    if isinstance(value, dict):
        return _text(Obj(list(value.items())), style)
    if isinstance(value, list):
        return "[" + ",".join(_text(v, style) for v in value) + "]"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=style == "ascii")
        if style == "go":
            text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return text
    if isinstance(value, float) and value != value:
        return "NaN"
    return json.dumps(value)


# --- generated bodies ------------------------------------------------------------------

# Each field has ordinary values (what senders send, including what the fast path may still
# decline, such as long non-ASCII text) and hostile ones (what the parser refuses or reads
# in a way the types must not take for granted).
SHORT_TEXT = st.one_of(
    st.text(max_size=12).filter(lambda t: "\x00" not in t),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12),
    st.sampled_from(["", " ", "<b>&amp;</b>", "\u2028", "😀"]),
)
RARE_TEXT = st.sampled_from(["é" * 1024, "é" * 1025, "x" * 1025, "x" * 4096, "\\u0000"])  # may be declined
TEXT = st.integers(0, 39).flatmap(lambda n: RARE_TEXT if n == 17 else SHORT_TEXT)
HOSTILE_TEXT = st.one_of(
    st.sampled_from(["a\x00b", "\x00", "\ud83d", "x" * 4097, "€" * 1366, "\udc00\ud800", "é" * 2049]),
    st.text(st.one_of(st.characters(), st.characters(categories=["Cs"])), min_size=1, max_size=6),
)
WRONG = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_infinity=False),
    st.just([]),
    st.just({}),
    st.just(["firing"]),
)
NAME = st.one_of(
    st.sampled_from(["alertname", "service", "severity", "job", "k8s.io/app"]), TEXT.filter(bool)
)
VALUE = st.one_of(TEXT, st.sampled_from(["critical", "CRIT", " warn ", "P1", "page", "nope"]))
LABELS = st.one_of(
    st.dictionaries(NAME, VALUE, min_size=1, max_size=6),
    st.lists(st.tuples(NAME, VALUE), min_size=1, max_size=5).map(Obj),  # names may repeat
    st.builds(lambda n: {f"l{i}": "v" for i in range(n)}, st.sampled_from([99, 100])),
)
HOSTILE_LABELS = st.one_of(
    st.just({}),
    st.just({f"l{i}": "v" for i in range(101)}),
    st.builds(  # one bad entry among good ones
        lambda good, bad, at: Obj([*list(good.items())[:at], bad, *list(good.items())[at:]]),
        st.dictionaries(NAME, VALUE, max_size=4),
        st.one_of(
            st.tuples(st.just(""), VALUE),
            st.tuples(HOSTILE_TEXT, VALUE),
            st.tuples(NAME, HOSTILE_TEXT),
            st.tuples(NAME, WRONG),
        ),
        st.integers(0, 4),
    ),
)
OFFSETS = st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
TIMES = st.one_of(
    st.sampled_from(
        [
            "0001-01-01T00:00:00Z",
            "0001-01-01T00:00:00+01:00",  # before UTC's calendar: set aside
            "0000-01-01T00:00:00Z",
            "+10000-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-11-26T22:26:25.6Z",
            "2026-11-26T22:26:25.123456789Z",
            "2026-11-26T22:26:25.123456789+02:00",
            "2026-11-26 22:26:25Z",
            "2026-11-27T22:30:01Z",  # more than a day ahead of NOW
        ]
    ),
    st.datetimes(
        min_value=datetime(1960, 1, 1),
        max_value=datetime(2030, 1, 1),
        timezones=st.one_of(st.just(UTC), st.builds(timezone, OFFSETS)),
    ).map(datetime.isoformat),
    st.builds(
        lambda at, digits: at.strftime("%Y-%m-%dT%H:%M:%S.") + digits + "Z",
        st.datetimes(min_value=datetime(2026, 11, 1), max_value=datetime(2026, 11, 28)),
        st.text("0123456789", min_size=1, max_size=9),
    ),
)
HOSTILE_TIMES = st.one_of(
    st.sampled_from(
        [
            "2026-11-26T22:26:25",
            "2026-11-26T22:26:25z",
            "2026-13-01T00:00:00Z",
            "not a time",
            "",
            "2026-11-26T22:26:25.6Z" + " " * 60,
            "2026-11-26T22:26:25." + "1" * 50 + "Z",
        ]
    ),
    HOSTILE_TEXT,
)
STATUS = st.sampled_from(["firing", "resolved"])
HOSTILE_STATUS = st.sampled_from(["Firing", "FIRING", "acknowledged", "", " firing"])
COUNT = st.sampled_from([0, 1, 7, 2**63 - 1])
HOSTILE_COUNT = st.sampled_from([-1, 2**63, 2**64 - 1, 2**64, 2**70, True, False, 1.0, 1.5, "1"])
FREE_FORM = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**66), 2**66), st.floats(allow_nan=False), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=8,
)
Field = tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]  # (ordinary, hostile)
ALERT_FIELDS: dict[str, Field] = {
    "status": (STATUS, HOSTILE_STATUS),
    "labels": (LABELS, HOSTILE_LABELS),
    "annotations": (LABELS | st.just({}), HOSTILE_LABELS),
    "startsAt": (TIMES, HOSTILE_TIMES),
    "endsAt": (TIMES, HOSTILE_TIMES),
    "generatorURL": (TEXT, HOSTILE_TEXT),
    "fingerprint": (st.sampled_from(["115c12e7e9840226", "", "x" * 63, "x" * 64]) | SHORT_TEXT, HOSTILE_TEXT),
}
GRAFANA_ALERT_FIELDS = ALERT_FIELDS | {
    name: (TEXT, HOSTILE_TEXT)
    for name in ("silenceURL", "dashboardURL", "panelURL", "imageURL", "valueString")
}
GRAFANA_ALERT_FIELDS |= {
    "values": (st.dictionaries(TEXT, st.floats(allow_nan=False) | st.integers()), FREE_FORM),
    "ruleUID": (TEXT, FREE_FORM),
    "orgId": (st.integers(0, 2**70), FREE_FORM),
}
BODY_FIELDS: dict[str, Field] = {
    "status": (STATUS, HOSTILE_STATUS),
    "receiver": (TEXT, HOSTILE_TEXT),
    "groupKey": (TEXT, HOSTILE_TEXT),
    "truncatedAlerts": (COUNT, HOSTILE_COUNT),
    "externalURL": (TEXT, HOSTILE_TEXT),
    "groupLabels": (LABELS | st.just({}), HOSTILE_LABELS),
    "commonLabels": (LABELS | st.just({}), HOSTILE_LABELS),
    "commonAnnotations": (LABELS | st.just({}), HOSTILE_LABELS),
}
GRAFANA_BODY_FIELDS = BODY_FIELDS | {
    "title": (TEXT, HOSTILE_TEXT),
    "state": (TEXT, HOSTILE_TEXT),
    "message": (TEXT | st.just("m" * 20000), HOSTILE_TEXT),
    "orgId": (st.integers(0, 2**70), FREE_FORM),
}
REQUIRED = {"status", "labels"}  # of an alert


def members(draw: st.DrawFn, fields: dict[str, Field], required: set[str]) -> list[tuple[str, Any]]:
    """Ordinary values for the required fields and some others; rarely a key twice (the last
    one counts) or a field the format does not have."""
    found: list[tuple[str, Any]] = []
    for name, (ordinary, _) in fields.items():
        if name in required or draw(st.booleans()):
            found.append((name, draw(ordinary)))
        if draw(st.integers(0, 49)) == 17:
            found.append((name, draw(ordinary)))
    if draw(st.integers(0, 49)) == 17:
        found.append((draw(st.sampled_from(["extra", "silenceURL", "orgId"])), draw(FREE_FORM)))
    return found


def spoil(draw: st.DrawFn, found: list[tuple[str, Any]], fields: dict[str, Field]) -> None:
    """One field made absent, null, hostile or of a wrong type, or hostile first and
    ordinary second under the same key."""
    name = draw(st.sampled_from(sorted(fields)))
    ordinary, hostile = fields[name]
    how = draw(st.sampled_from(["absent", "null", "hostile", "hostile", "wrong", "twice"]))
    found[:] = [(key, value) for key, value in found if key != name]
    if how == "null":
        found.append((name, None))
    elif how in ("hostile", "wrong"):
        found.append((name, draw(hostile if how == "hostile" else WRONG)))
    elif how == "twice":
        found.extend([(name, draw(st.one_of(hostile, WRONG))), (name, draw(ordinary))])


@st.composite
def bodies(draw: st.DrawFn, source: str) -> bytes:
    """A body of up to four alerts, ordinary or with up to three things spoiled in it."""
    grafana = source == "grafana"
    alert_fields = GRAFANA_ALERT_FIELDS if grafana else ALERT_FIELDS
    body_fields = GRAFANA_BODY_FIELDS if grafana else BODY_FIELDS
    alerts = [members(draw, alert_fields, REQUIRED) for _ in range(draw(st.integers(0, 4)))]
    root = members(draw, body_fields, set())
    if draw(st.booleans()):
        root.append(("version", "1" if grafana else "4"))
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3]))):
        target = draw(st.integers(-1, len(alerts) - 1))
        if target >= 0:
            spoil(draw, alerts[target], alert_fields)
        else:
            spoil(draw, root, body_fields | {"version": (st.just("4"), st.sampled_from(["1", "3", 4, ""]))})
    if draw(st.integers(0, 19)) == 13:
        root.append(("alerts", draw(WRONG)))
    else:
        items: list[Any] = [Obj(draw(st.permutations(alert))) for alert in alerts]
        if draw(st.integers(0, 19)) == 13:
            items.insert(draw(st.integers(0, len(items))), draw(WRONG))
        root.append(("alerts", items))
    body: Any = Obj(draw(st.permutations(root))) if draw(st.integers(0, 29)) != 13 else draw(WRONG)
    return encode(body, draw(st.sampled_from(["plain", "plain", "go", "go", "ascii"])))


PROPERTY = settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(bodies("alertmanager"))
def test_an_alertmanager_body_is_read_as_the_parser_reads_it_or_declined(raw: bytes) -> None:
    same_or_declined("alertmanager", raw)


@PROPERTY
@given(bodies("grafana"))
def test_a_grafana_body_is_read_as_the_parser_reads_it_or_declined(raw: bytes) -> None:
    same_or_declined("grafana", raw)


# --- ordinary bodies take the fast path -----------------------------------------------


def bench_body(numbers: range, status: str) -> bytes:
    spec = importlib.util.spec_from_file_location("bench_ingest", ROOT / "bench" / "ingest.py")
    assert spec is not None and spec.loader is not None
    module = sys.modules["bench_ingest"] = importlib.util.module_from_spec(spec)  # its dataclasses need it
    spec.loader.exec_module(module)
    raw: bytes = module.body(numbers, status)
    return raw


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in FIXTURES.glob("*.json") if p.name.startswith(("alertmanager_", "grafana_"))),
)
def test_the_captured_bodies_take_the_fast_path(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    assert same_or_declined(name.split("_")[0], raw), f"{name} was declined"


def test_the_benchmark_bodies_take_the_fast_path() -> None:
    for status in ("firing", "resolved"):
        raw = bench_body(range(100), status)
        assert same_or_declined("alertmanager", raw)
        batch = fast_batch("alertmanager", raw, NOW)
        assert batch is not None and len(batch.signals) == 100


def alertmanager(alert: dict[str, Any] | None = None, **root: Any) -> dict[str, Any]:
    body = json.loads((FIXTURES / "alertmanager_firing.json").read_text(encoding="utf-8"))
    body["alerts"][0].update(alert or {})
    body.update(root)
    return body


TAKEN = {
    "Go's escapes of <, > and &": encode(alertmanager({"generatorURL": "http://x/?a=<1>&b=2"}), "go"),
    "non-ASCII text": encode(alertmanager({"annotations": {"summary": "Überlast 😀 \u2028"}}), "plain"),
    "Go's zero time and nanoseconds": encode(
        alertmanager({"startsAt": "2026-11-26T22:26:25.123456789+01:00", "endsAt": "0001-01-01T00:00:00Z"}),
        "plain",
    ),
    "an implausible time, set aside": encode(alertmanager({"startsAt": "1969-07-20T20:17:40Z"}), "plain"),
    "a time beyond the calendar, set aside": encode(
        alertmanager({"endsAt": "0000-01-01T00:00:00Z"}), "plain"
    ),
    "nulls as absent": encode(
        alertmanager({"annotations": None, "fingerprint": None}, version=None), "plain"
    ),
    "a duplicate key, the last kept": encode(Obj([*alertmanager().items(), ("receiver", "second")]), "plain"),
    "a label named twice": encode(
        alertmanager({"labels": Obj([("alertname", "A"), ("service", "x"), ("alertname", "B")])}), "plain"
    ),
    "exactly a hundred labels": encode(alertmanager({"labels": {f"l{i}": "v" for i in range(100)}}), "plain"),
}


@pytest.mark.parametrize("raw", TAKEN.values(), ids=TAKEN.keys())
def test_ordinary_variations_take_the_fast_path(raw: bytes) -> None:
    assert same_or_declined("alertmanager", raw)


DECLINED = {
    "a NUL escape": encode(alertmanager({"labels": {"alertname": "a\x00"}}), "plain"),
    "a lone surrogate escape": encode(alertmanager({"annotations": {"summary": "\ud800"}}), "ascii"),
    "a lone surrogate as raw bytes": encode(alertmanager({"annotations": {"summary": "\ud800"}}), "plain"),
    "invalid UTF-8": encode(alertmanager(), "plain").replace(b"demo-shop", b"demo-\xff", 1),
    "101 labels": encode(alertmanager({"labels": {f"l{i}": "v" for i in range(101)}}), "plain"),
    "an empty label name": encode(alertmanager({"labels": {"": "v", "alertname": "A"}}), "plain"),
    "no labels": encode(alertmanager({"labels": {}}), "plain"),
    "a status in capitals": encode(alertmanager({"status": "Firing"}), "plain"),
    "another version": encode(alertmanager(version="3"), "plain"),
    "a boolean count": encode(alertmanager(truncatedAlerts=True), "plain"),
    "a float count": encode(alertmanager(truncatedAlerts=1.0), "plain"),
    "a count orjson reads as a float": encode(alertmanager(truncatedAlerts=2**64), "plain"),
    "a naive time": encode(alertmanager({"startsAt": "2026-11-26T22:26:25"}), "plain"),
    "a body that is an array": b"[]",
    "an empty body": b"",
    "a field Alertmanager does not send": encode(alertmanager(extra={"a": [1, 2]}), "plain"),
    "a label value that may be over 4 KiB": encode(alertmanager({"labels": {"a": "é" * 1025}}), "plain"),
}


@pytest.mark.parametrize("raw", DECLINED.values(), ids=DECLINED.keys())
def test_what_the_fast_path_cannot_prove_ordinary_is_declined(raw: bytes) -> None:
    assert fast_batch("alertmanager", raw, NOW) is None


def grafana(alert: dict[str, Any] | None = None, **root: Any) -> dict[str, Any]:
    body = json.loads((FIXTURES / "grafana_firing.json").read_text(encoding="utf-8"))
    body["alerts"][0].update(alert or {})
    body.update(root)
    return body


def deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


GRAFANA_DECLINED = {
    "invalid UTF-8 in values": encode(grafana({"values": {"B": "MARK"}}), "plain").replace(b"MARK", b"\xff"),
    "values nested deeper than the parser reads": encode(grafana({"values": {"B": deep(40)}}), "plain"),
    "an empty panel link of the wrong type": encode(grafana({"panelURL": 5}), "plain"),
    "NaN in values": encode(grafana({"values": {"B": float("nan")}}), "plain"),
    "a message with a NUL": encode(grafana(message="a\x00"), "plain"),
}


@pytest.mark.parametrize("raw", GRAFANA_DECLINED.values(), ids=GRAFANA_DECLINED.keys())
def test_what_the_fast_path_cannot_prove_ordinary_in_grafana_is_declined(raw: bytes) -> None:
    assert fast_batch("grafana", raw, NOW) is None


GRAFANA_TAKEN = {
    "values of every number kind": encode(
        grafana({"values": {"A": 1, "B": 0.1812, "C": 2**70, "D": -0.0}}), "plain"
    ),
    "empty links and null values": encode(
        grafana({"panelURL": "", "values": None, "ruleUID": "u1"}), "plain"
    ),
    "a long message, cut": encode(grafana(message="m" * 20000, orgId=7), "plain"),
}


@pytest.mark.parametrize("raw", GRAFANA_TAKEN.values(), ids=GRAFANA_TAKEN.keys())
def test_ordinary_grafana_variations_take_the_fast_path(raw: bytes) -> None:
    assert same_or_declined("grafana", raw)
