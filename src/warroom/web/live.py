"""Live room updates as server-sent events.

The stream reads the incident's version (a cheap read of the read model) and sends
``event: changed`` when it moves. Reading the database, rather than listening to this
process's writes, is what makes a change from the CLI, the API or another replica show
up too. When to read again:

- on PostgreSQL, when the database says the incident changed: every replica listens
  (``storage.change_feed``, LISTEN/NOTIFY) and :class:`LiveSignal` wakes the streams of
  that incident, so a thousand open rooms cost no reads while nothing happens (and one
  read each every :data:`FEED_INTERVAL` seconds as a safety net);
- otherwise (SQLite, or while the feed reconnects) every :data:`INTERVAL` seconds.

The stream ends when the client goes away, when the incident disappears, and after
``lifetime`` seconds; the browser's EventSource then reconnects with ``Last-Event-ID``
(the last version it saw), so nothing is missed.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio

INTERVAL = 0.5
FEED_INTERVAL = 5.0
EVERYTHING = 0  # the feed's "anything may have changed" (storage.change_feed.EVERYTHING)
LIFETIME = 600.0
KEEPALIVE = 15.0
RETRY_MS = 1000


def parse_version(*candidates: str | None) -> int | None:
    """The first candidate that is a version number (``Last-Event-ID`` before ``?since=``)."""
    for text in candidates:
        if text is not None and text.strip().isdecimal() and len(text.strip()) < 12:
            return int(text.strip())
    return None


async def changes(
    version_of: Callable[[], Awaitable[int | None]],
    disconnected: Callable[[], Awaitable[bool]],
    *,
    since: int | None,
    interval: float = INTERVAL,
    lifetime: float = LIFETIME,
    keepalive: float = KEEPALIVE,
    clock: Callable[[], float] = time.monotonic,
    wait: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIterator[str]:
    """The SSE stream: ``changed`` events carrying the new version, comments as keepalives.

    ``wait`` returns when the version should be read again (default: after ``interval``)."""
    pause = wait or (lambda: anyio.sleep(interval))
    yield f"retry: {RETRY_MS}\n\n"
    started = last_sent = clock()
    last = since
    while clock() - started < lifetime:
        if await disconnected():
            return
        current = await version_of()
        if current is None:
            yield "event: gone\ndata: incident not found\n\n"
            return
        if last is None:
            last = current
        elif current != last:
            last = current
            last_sent = clock()
            yield f"id: {current}\nevent: changed\ndata: {current}\n\n"
        elif clock() - last_sent >= keepalive:
            last_sent = clock()
            yield ": still here\n\n"
        await pause()


class LiveSignal:
    """The streams open in this process, woken by incident number from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: dict[int, set[Subscription]] = {}
        self.feed_connected: Callable[[], bool] = lambda: False

    def notify(self, number: int) -> None:
        """Called by the change feed's thread; :data:`EVERYTHING` wakes every stream."""
        with self._lock:
            if number == EVERYTHING:
                targets = [sub for subs in self._streams.values() for sub in subs]
            else:
                targets = list(self._streams.get(number, ()))
        for sub in targets:
            sub.wake()

    def subscribe(self, number: int) -> Subscription:
        sub = Subscription(self, number, asyncio.get_running_loop())
        with self._lock:
            self._streams.setdefault(number, set()).add(sub)
        return sub

    def open_streams(self) -> int:
        with self._lock:
            return sum(len(subs) for subs in self._streams.values())

    def _drop(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._streams.get(sub.number)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._streams[sub.number]


class Subscription:
    """One stream's wake-up: set by a notification, cleared by :meth:`wait`. A notification
    that arrives while the stream reads is kept, so the next wait returns at once."""

    def __init__(self, signal: LiveSignal, number: int, loop: asyncio.AbstractEventLoop) -> None:
        self.number = number
        self._signal = signal
        self._loop = loop
        self._event = asyncio.Event()

    def wake(self) -> None:
        try:
            self._loop.call_soon_threadsafe(self._event.set)
        except RuntimeError:  # the loop is closed: the stream is gone
            self.close()

    async def wait(self) -> None:
        timeout = FEED_INTERVAL if self._signal.feed_connected() else INTERVAL
        with anyio.move_on_after(timeout):
            await self._event.wait()
        self._event.clear()

    def close(self) -> None:
        self._signal._drop(self)


async def subscribed(stream: AsyncIterator[str], sub: Subscription) -> AsyncIterator[str]:
    """``stream``, unsubscribing when it ends or the client goes away."""
    try:
        async for chunk in stream:
            yield chunk
    finally:
        sub.close()
