"""``POST /v1/traces`` on a real database (SQLite and PostgreSQL): both encodings, gzip,
the OTLP response, tokens, and hostile bodies refused whole with nothing stored."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from tests.api.conftest import Api
from warroom.services.identity import auth

from .otlp_bodies import gz, json_body, protobuf_body, request_of
from .shop import shop

PB = {"Content-Type": "application/x-protobuf"}
JS = {"Content-Type": "application/json"}


@pytest.fixture
def otlp(api: Api) -> Api:
    api.tokens["otel"] = auth.create_token(api.app.context, "otel", "ingest", "otlp")[0]
    return api


@pytest.fixture(scope="module")
def shared() -> Iterator[Api]:
    """One SQLite app for the refusals (each must store nothing, so they can share it)."""
    import tempfile

    from tests.api.conftest import Clock, make_api
    from tests.conftest import dispose
    from warroom.bootstrap import build
    from warroom.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        app = build(Settings(database_url=f"sqlite:///{folder}/warroom.db"), clock=Clock())
        api = make_api(app, Clock())
        api.tokens["otel"] = auth.create_token(app.context, "otel", "ingest", "otlp")[0]
        with api.client:
            yield api
        dispose(app)


def stored(api: Api) -> int:
    return int(api.app.context.xray.store.count())


def post(api: Api, body: bytes, headers: dict[str, str], as_: str = "otel") -> Any:
    return api.client.post("/v1/traces", content=body, headers=api.auth(as_) | headers)


def test_protobuf_json_and_gzip_bodies_are_stored_and_answered_in_kind(otlp: Api) -> None:
    spans = shop(1, 5, fault_share=0.5)
    answer = post(otlp, protobuf_body(spans), PB)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/x-protobuf"
    response = ExportTraceServiceResponse()
    response.ParseFromString(answer.content)
    assert not response.HasField("partial_success")
    assert stored(otlp) == len(spans)

    answer = post(otlp, json_body(shop(2, 3, 0.0)), JS)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json" and answer.json() == {}
    answer = post(otlp, gz(protobuf_body(shop(3, 2, 0.0))), PB | {"Content-Encoding": "gzip"})
    assert answer.status_code == 200, answer.text
    everything = spans + shop(2, 3, 0.0) + shop(3, 2, 0.0)
    assert stored(otlp) == len(everything)

    store = otlp.app.context.xray.store
    from datetime import UTC, datetime

    back = store.spans(
        ["checkout"],
        datetime(2026, 5, 1, tzinfo=UTC),
        datetime(2026, 6, 30, tzinfo=UTC),
        timeout=5,
        limit=1000,
    )
    assert set(back) == set(everything)  # every field round-trips through OTLP and the store


def test_tokens_must_be_ingest_tokens_for_otlp(otlp: Api) -> None:
    body = protobuf_body(shop(1, 1, 0.0))
    assert otlp.client.post("/v1/traces", content=body, headers=PB).status_code == 401
    assert post(otlp, body, PB, as_="hook").status_code == 403  # an alertmanager ingest token
    assert post(otlp, body, PB, as_="vic").status_code == 403
    assert stored(otlp) == 0


def _huge_attribute() -> bytes:
    request = request_of(shop(1, 1, 0.0))
    span = request.resource_spans[0].scope_spans[0].spans[0]
    span.attributes.append(KeyValue(key="db.statement", value=AnyValue(string_value="x" * 200_000)))
    return request.SerializeToString()


HOSTILE: list[tuple[str, Any, dict[str, str], int]] = [
    ("truncated protobuf", lambda: protobuf_body(shop(1, 3, 0.0))[:-7], PB, 400),
    ("not protobuf at all", lambda: b"\xff\xff\xff\xff\x0f", PB, 400),
    ("JSON that is not OTLP", lambda: b'{"resourceSpans": 7}', JS, 400),
    ("JSON that is not JSON", lambda: b'{"resourceSpans": [', JS, 400),
    (
        "an id that is not hex",
        lambda: json_body(shop(1, 1, 0.0)).replace(b'"traceId": "', b'"traceId": "zz', 1),
        JS,
        400,
    ),
    ("a huge attribute value", _huge_attribute, PB, 400),
    ("a gzip body that is not gzip", lambda: b"not gzip", PB | {"Content-Encoding": "gzip"}, 400),
    (
        "a truncated gzip body",
        lambda: gz(protobuf_body(shop(1, 3, 0.0)))[:-20],
        PB | {"Content-Encoding": "gzip"},
        400,
    ),
    ("a gzip bomb", lambda: gz(b"\x00" * (5 * 1024 * 1024)), PB | {"Content-Encoding": "gzip"}, 413),
    ("brotli", lambda: b"x", PB | {"Content-Encoding": "br"}, 415),
    ("text/plain", lambda: b"x", {"Content-Type": "text/plain"}, 415),
    ("a body over the request limit", lambda: b"\x00" * (2 * 1024 * 1024), PB, 413),
]


@pytest.mark.parametrize(("name", "make", "headers", "status"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_bodies_get_a_clear_4xx_and_store_nothing(
    shared: Api, name: str, make: Any, headers: dict[str, str], status: int
) -> None:
    sqlite_api = shared
    answer = post(sqlite_api, make(), headers)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"]
    assert stored(sqlite_api) == 0


def test_a_million_spans_in_one_request_are_refused_whole(shared: Api) -> None:
    sqlite_api = shared
    one = protobuf_body(shop(1, 1, 0.0)[:1])
    # Serialized messages concatenate into one whose repeated fields hold all: 1e6 spans.
    body = gzip.compress(one * 1_000_000, compresslevel=1)
    assert len(body) < 1024 * 1024  # small on the wire: the request size limit lets it in
    answer = post(sqlite_api, body, PB | {"Content-Encoding": "gzip"})
    assert answer.status_code == 413, answer.text
    assert stored(sqlite_api) == 0


def test_more_spans_than_the_limit_are_refused_whole(shared: Api) -> None:
    sqlite_api = shared
    spans = shop(7, 1_669, 0.0)  # 10,014 valid spans, 10,000 allowed
    answer = post(sqlite_api, gz(protobuf_body(spans)), PB | {"Content-Encoding": "gzip"})
    assert answer.status_code == 413, answer.text
    assert answer.json()["detail"] == f"{len(spans)} spans in one request; at most 10000"
    assert stored(sqlite_api) == 0
