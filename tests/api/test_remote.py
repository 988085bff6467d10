"""The CLI's remote backend answers exactly what the embedded backend answers."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.api.conftest import Api, Clock, make_api
from tests.api.scenario import REFUSALS, WHOLE_INCIDENT, Step
from warroom.bootstrap import App
from warroom.cli.backend import OPERATIONS, Backend, EmbeddedBackend
from warroom.cli.remote import ROUTES, RemoteBackend, RemoteError
from warroom.domain.shared.errors import (
    ConcurrencyConflict,
    DomainError,
    InvalidTransition,
    NotFound,
    ValidationError,
)


def outcome(backend: Backend, step: Step) -> Any:
    op, ref, body = step
    try:
        return ("ok", backend.call(op, ref, body))
    except DomainError as exc:
        field = getattr(exc, "field", None)
        return (type(exc).__name__, field, exc.message)


def run(backend: Backend, steps: list[Step]) -> list[Any]:
    return [outcome(backend, step) for step in steps]


@pytest.fixture
def both(database_url: str, sqlite_url: str, build_app: Callable[..., App]) -> tuple[Backend, Backend]:
    """An embedded backend on one database and a remote one on another, same frozen clock.

    The remote server runs on the parametrized database (SQLite or PostgreSQL) and the
    embedded one on a SQLite file; the token and the embedded actor are both ``alice``.
    """
    clock = Clock()
    remote_app = build_app(database_url, clock=clock)
    api = make_api(remote_app, clock)
    embedded_url = sqlite_url.replace("warroom.db", "embedded.db")
    embedded_app = build_app(embedded_url, clock=clock)
    embedded = EmbeddedBackend(lambda: embedded_app.context, "alice")
    remote = RemoteBackend("http://testserver", api.tokens["alice"], client=api.client)
    return embedded, remote


def test_every_operation_has_a_route() -> None:
    assert set(ROUTES) == set(OPERATIONS)


def test_a_whole_incident_gives_equal_json_in_embedded_and_remote_mode(both: tuple[Backend, Backend]) -> None:
    embedded, remote = both
    # Nothing is normalized: both run on a frozen clock from empty databases, so ids
    # (INC-1, G2, M1, change 1), times and even the hash chain come out equal.
    expected = run(embedded, WHOLE_INCIDENT)
    got = run(remote, WHOLE_INCIDENT)
    for step, want, have in zip(WHOLE_INCIDENT, expected, got, strict=True):
        assert have == want, step[0]
    assert all(result[0] == "ok" for result in got), [r for r in got if r[0] != "ok"]
    assert got[-4][1][-1]["kind"] == "incident_closed"


def test_refusals_raise_the_same_errors_in_both_modes(both: tuple[Backend, Backend]) -> None:
    embedded, remote = both
    run(embedded, WHOLE_INCIDENT[:1])
    run(remote, WHOLE_INCIDENT[:1])
    expected = run(embedded, REFUSALS)
    got = run(remote, REFUSALS)
    for step, want, have in zip(REFUSALS, expected, got, strict=True):
        assert want[0] != "ok", step
        assert have == want, step


def test_an_unreachable_server_is_one_clear_line() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    backend = RemoteBackend(
        "http://127.0.0.1:9", "wr_x", client=httpx.Client(transport=httpx.MockTransport(refuse))
    )
    backend._sleep = lambda _s: None
    with pytest.raises(RemoteError) as caught:
        backend.call("list", None, {})
    assert str(caught.value) == "cannot reach warroom at http://127.0.0.1:9: Connection refused"


def test_a_dropped_post_is_retried_with_the_same_idempotency_key() -> None:
    keys: list[str] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["Idempotency-Key"])
        if len(keys) == 1:
            raise httpx.ReadError("connection reset", request=request)
        return httpx.Response(200, json={"id": "INC-1"})

    backend = RemoteBackend("http://w", "wr_x", client=httpx.Client(transport=httpx.MockTransport(flaky)))
    backend._sleep = lambda _s: None
    assert backend.call("note", "INC-1", {"text": "x"}) == {"id": "INC-1"}
    assert len(keys) == 2 and keys[0] == keys[1]


@pytest.mark.parametrize(
    ("status", "problem", "error", "message"),
    [
        (
            409,
            {"type": "https://warroom.dev/problems/concurrency-conflict", "detail": "retry"},
            ConcurrencyConflict,
            "retry",
        ),
        (
            409,
            {"type": "https://warroom.dev/problems/invalid-transition", "detail": "no"},
            InvalidTransition,
            "no",
        ),
        (
            404,
            {"type": "https://warroom.dev/problems/not-found", "detail": "no incident INC-4"},
            NotFound,
            "no incident INC-4",
        ),
        (
            422,
            {"type": "x/validation", "detail": "title: is empty", "field": "title"},
            ValidationError,
            "title: is empty",
        ),
        (413, {"detail": "too big", "field": "body"}, ValidationError, "body: too big"),
        (
            401,
            {"detail": "the token is unknown or revoked"},
            RemoteError,
            "warroom at http://w refused the token (401): the token is unknown or revoked",
        ),
        (
            500,
            {"detail": "the server failed"},
            RemoteError,
            "warroom at http://w answered 500: the server failed",
        ),
    ],
)
def test_problem_documents_map_back_onto_domain_errors(
    status: int, problem: dict[str, str], error: type[Exception], message: str
) -> None:
    def answer(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=problem, headers={"Content-Type": "application/problem+json"})

    backend = RemoteBackend("http://w", "wr_x", client=httpx.Client(transport=httpx.MockTransport(answer)))
    with pytest.raises(error) as caught:
        backend.call("show", "INC-4")
    shown = caught.value.message if isinstance(caught.value, DomainError) else str(caught.value)
    assert shown == message


def test_a_revoked_token_is_refused_remotely(sqlite_api: Api) -> None:
    remote = RemoteBackend("http://testserver", sqlite_api.tokens["vic"], client=sqlite_api.client)
    assert remote.call("list", None, {}) == []
    sqlite_api.client.delete("/api/v1/tokens/vic", headers=sqlite_api.auth("root"))
    with pytest.raises(RemoteError, match="refused the token"):
        remote.call("list", None, {})


def _silent_server(backlog_full: bool) -> tuple[socket.socket, list[socket.socket]]:
    """A loopback listener that never answers: it accepts and stays silent, or (with a full
    backlog) never completes a new connection at all."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    held: list[socket.socket] = []
    if backlog_full:  # fill the accept queue: Linux then drops further SYNs, so connect hangs
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(server.getsockname())
            held.append(filler)
        time.sleep(0.1)
    return server, held


@pytest.mark.parametrize("backlog_full", [False, True])
def test_a_server_that_never_answers_is_one_wait_then_one_clear_line(backlog_full: bool) -> None:
    server, held = _silent_server(backlog_full)
    url = "http://{}:{}".format(*server.getsockname())
    timeout = httpx.Timeout(1.5, connect=1.0)
    backend = RemoteBackend(url, "wr_token", client=httpx.Client(timeout=timeout))
    started = time.monotonic()
    try:
        with pytest.raises(RemoteError, match=r"did not (connect|answer) in time \((1|1\.5) s\)"):
            backend.call("list")
        waited = time.monotonic() - started
    finally:
        backend.client.close()
        for s in (*held, server):
            s.close()
    assert waited < 2.5, f"waited {waited:.1f} s: a timeout must not be retried"


def test_the_default_connect_timeout_is_a_few_seconds() -> None:
    from warroom.cli.remote import TIMEOUT

    assert TIMEOUT.connect is not None and TIMEOUT.connect <= 5
