"""Live room updates as server-sent events.

The stream polls the incident's version (a cheap read of the read model) every
``interval`` seconds and sends ``event: changed`` when it moves. Polling the database,
rather than listening to this process's writes, is what makes a change from the CLI, the
API or another replica show up too. The stream ends when the client goes away, when the
incident disappears, and after ``lifetime`` seconds; the browser's EventSource then
reconnects with ``Last-Event-ID`` (the last version it saw), so nothing is missed.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio

INTERVAL = 0.5
LIFETIME = 600.0
KEEPALIVE = 15.0
RETRY_MS = 1000


def parse_version(*candidates: str | None) -> int | None:
    """The first candidate that is a version number (``Last-Event-ID`` before ``?since=``)."""
    for text in candidates:
        if text is not None and text.strip().isdigit() and len(text.strip()) < 12:
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
) -> AsyncIterator[str]:
    """The SSE stream: ``changed`` events carrying the new version, comments as keepalives."""
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
        await anyio.sleep(interval)
