"""The server-sent event stream, driven by a fake version source and a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio

from warroom.web.live import changes, parse_version


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def collect(stream: AsyncIterator[str], limit: int = 50) -> list[str]:
    async def run() -> list[str]:
        out: list[str] = []
        async for chunk in stream:
            out.append(chunk)
            if len(out) >= limit:
                break
        return out

    return anyio.run(run)


def stream(
    versions: list[int | None], *, since: int | None, disconnect_after: int = 10_000, lifetime: float = 100.0
) -> tuple[AsyncIterator[str], Clock]:
    clock = Clock()
    polls = iter(versions)
    calls = {"n": 0}

    async def version_of() -> int | None:
        clock.now += 1.0
        return next(polls, versions[-1])

    async def disconnected() -> bool:
        calls["n"] += 1
        return calls["n"] > disconnect_after

    return (
        changes(
            version_of, disconnected, since=since, interval=0, lifetime=lifetime, keepalive=5.0, clock=clock
        ),
        clock,
    )


def test_a_change_since_the_page_was_rendered_is_sent_with_its_version_as_id() -> None:
    events, _ = stream([3, 3, 4], since=3, disconnect_after=3)
    chunks = collect(events)
    assert chunks[0] == "retry: 1000\n\n"
    assert chunks[1:] == ["id: 4\nevent: changed\ndata: 4\n\n"]


def test_a_change_between_render_and_connect_is_not_missed() -> None:
    events, _ = stream([5], since=4, disconnect_after=1)
    assert collect(events)[1] == "id: 5\nevent: changed\ndata: 5\n\n"


def test_without_a_known_version_the_first_poll_is_the_baseline() -> None:
    events, _ = stream([5, 5, 6], since=None, disconnect_after=3)
    assert collect(events)[1:] == ["id: 6\nevent: changed\ndata: 6\n\n"]


def test_a_quiet_incident_gets_keepalive_comments() -> None:
    events, _ = stream([1] * 20, since=1, disconnect_after=12)
    assert ": still here\n\n" in collect(events)


def test_the_stream_ends_when_the_client_disconnects() -> None:
    events, clock = stream([2, 3, 4, 5], since=1, disconnect_after=2)
    assert len(collect(events)) == 3  # retry + two changes, then the disconnect ends it
    assert clock.now == 2.0


def test_the_stream_ends_after_its_lifetime() -> None:
    events, clock = stream([1] * 1000, since=1, lifetime=30.0)
    collect(events, limit=10_000)
    assert 30.0 <= clock.now <= 31.0


def test_a_vanished_incident_ends_the_stream() -> None:
    events, _ = stream([None], since=1)
    assert collect(events)[-1].startswith("event: gone")


def test_last_event_id_wins_over_the_query_and_junk_is_ignored() -> None:
    assert parse_version("7", "3") == 7
    assert parse_version(None, "3") == 3
    assert parse_version("x", "-1") is None
    assert parse_version("9" * 20, None) is None
