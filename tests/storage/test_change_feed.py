"""The change feed on a real PostgreSQL: an append in one process's transaction wakes the
listener on commit (not before, not on rollback), and the live signal wakes only the
streams of that incident."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from warroom.bootstrap import start_change_feed
from warroom.services import operations as ops
from warroom.storage.change_feed import EVERYTHING, ChangeFeed
from warroom.web.live import LiveSignal


class Heard:
    def __init__(self) -> None:
        self.numbers: list[int] = []
        self.changed = threading.Condition()

    def __call__(self, number: int) -> None:
        with self.changed:
            self.numbers.append(number)
            self.changed.notify_all()

    def wait_for(self, number: int, timeout: float = 3.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: number in self.numbers, timeout)


def test_a_committed_append_is_heard_by_a_listener_on_another_connection(
    postgres_url: str, build_app: Callable[..., Any]
) -> None:
    writer, listener = build_app(postgres_url), build_app(postgres_url)
    heard = Heard()
    feed = start_change_feed(listener, heard)
    assert isinstance(feed, ChangeFeed)
    try:
        assert feed.connected.wait(5) and heard.wait_for(EVERYTHING)
        started = time.monotonic()
        ref = ops.declare(writer.context, "alice", {"title": "Heard elsewhere"})["id"]
        number = int(ref.split("-")[1])
        assert heard.wait_for(number), heard.numbers
        assert time.monotonic() - started < 1.0
    finally:
        feed.stop()


def test_sqlite_has_no_feed(sqlite_url: str, build_app: Callable[..., Any]) -> None:
    assert start_change_feed(build_app(sqlite_url), lambda n: None) is None


def test_the_signal_wakes_the_streams_of_the_changed_incident_only() -> None:
    signal = LiveSignal()
    signal.feed_connected = lambda: True  # waits up to 5 s unless woken
    woke: dict[int, float] = {}

    async def main() -> None:
        seven, eight = signal.subscribe(7), signal.subscribe(8)

        async def watch(sub: Any) -> None:
            started = time.monotonic()
            await sub.wait()
            woke[sub.number] = time.monotonic() - started

        async with anyio.create_task_group() as group:
            group.start_soon(watch, seven)
            group.start_soon(watch, eight)
            await anyio.sleep(0.05)
            threading.Thread(target=signal.notify, args=(7,)).start()  # from the feed's thread
            await anyio.sleep(0.3)
            assert 7 in woke and 8 not in woke
            signal.notify(EVERYTHING)
        seven.close()
        eight.close()

    anyio.run(main)
    assert woke[7] < 0.3 and woke[8] < 1.0
    assert signal.open_streams() == 0


@pytest.mark.parametrize("connected", [False, True])
def test_without_a_notification_a_stream_reads_again_after_its_interval(connected: bool) -> None:
    from warroom.web import live

    signal = LiveSignal()
    signal.feed_connected = lambda: connected

    async def main() -> float:
        sub = signal.subscribe(1)
        started = time.monotonic()
        with anyio.move_on_after(0.8):
            await sub.wait()
        sub.close()
        return time.monotonic() - started

    waited = anyio.run(main)
    if connected:
        assert waited >= 0.75  # the safety-net interval is longer than this test waits
    else:
        assert abs(waited - live.INTERVAL) < 0.2
