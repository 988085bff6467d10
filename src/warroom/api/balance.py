"""Keeps the connections of ``warroom serve --workers N`` spread over its processes.

The processes share one listening socket and a keep-alive connection stays with the one
that accepted it: eight connections from an Alertmanager pair split 6 to 2 leave one core
half idle for as long as they live (measured with two processes: 22,000 alerts/s in a round
where they split unevenly, 35,000 when they split evenly). So each process publishes how
many connections it holds in a small shared file (:class:`SharedLoad`), and one holding
more than its share, ``ceil(all / live processes)``, answers its next request with
``Connection: close``
(:class:`ConnectionBalance`). The request is answered in full; the sender opens a new
connection, which goes to whichever process accepts it first. Once the connections are
even, nothing is closed.

What is balanced is the load, so a connection counts while it is busy: from a request
until this process closes it or it has sent nothing for :data:`ACTIVE` (a sender in a storm
sends every few milliseconds; an idle connection costs nothing, and one its sender closed
is not seen closing).
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import mkstemp
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ENV = "WARROOM_SERVE_BALANCE"  # "<processes>:<path of the shared file>", set by serve --workers
ACTIVE = 0.5  # seconds since its last request that a connection still counts
_SLOT = struct.Struct("=qq")  # connections, when published (ms of CLOCK_MONOTONIC, one clock for all)


def _slots(processes: int) -> int:
    """Slots in the file of ``processes``: room for restarts while a dead one's lock lingers."""
    return 2 * processes + 1


@contextmanager
def shared_file(processes: int) -> Iterator[str]:
    """A new shared file for ``processes`` server processes, as the value of :data:`ENV`;
    removed on leaving."""
    folder = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    handle, path = mkstemp(prefix="warroom-serve-", suffix=".load", dir=folder)
    try:
        os.ftruncate(handle, _SLOT.size * _slots(processes))
        os.close(handle)
        yield f"{processes}:{path}"
    finally:
        Path(path).unlink(missing_ok=True)


class SharedLoad:
    """This process's slot in the shared file: what it publishes, and the others' counts.

    A process claims the first slot whose byte it can lock (a POSIX record lock, which the
    kernel releases when the process dies), and the slots locked by others are the
    processes alive: one still starting, or killed and not yet restarted, gets no share."""

    def __init__(self, value: str) -> None:
        processes, _, path = value.partition(":")
        if not processes.isdigit() or int(processes) < 1 or not path:
            raise ValueError(f"{ENV} must read <processes>:<path>, not {value!r}")
        self.processes = int(processes)
        self._fd = os.open(path, os.O_RDWR)
        self._slots = _slots(self.processes)
        self._map = mmap.mmap(self._fd, _SLOT.size * self._slots)
        self.slot = next((slot for slot in range(self._slots) if self._lock(slot)), None)
        if self.slot is None:
            raise RuntimeError(f"no free slot in {path}: more than {self._slots} server processes")
        self.publish(0, 0.0)
        self.alive = [self.slot]

    def _lock(self, slot: int) -> bool:
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, slot)
        except OSError:
            return False
        return True

    def look_around(self) -> None:
        """Find the slots held by live processes (this one's included)."""
        alive = []
        for slot in range(self._slots):
            if slot == self.slot:
                alive.append(slot)
            elif self._lock(slot):  # free: nobody there
                fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, slot)
            else:
                alive.append(slot)
        self.alive = alive

    def publish(self, connections: int, now: float) -> None:
        """This process holds ``connections`` at ``now`` (seconds of ``time.monotonic``)."""
        assert self.slot is not None
        _SLOT.pack_into(self._map, self.slot * _SLOT.size, connections, int(now * 1000))

    def everyone(self, now: float) -> int:
        """The busy connections of the live processes. One that answered nothing for
        :data:`ACTIVE` has none, whatever it published last."""
        since = int((now - ACTIVE) * 1000)
        counts = (_SLOT.unpack_from(self._map, slot * _SLOT.size) for slot in self.alive)
        return sum(count for count, at in counts if at >= since)

    def over_share(self, connections: int, now: float) -> bool:
        """Whether this process, holding ``connections``, holds more than its share,
        ``ceil(all / live processes)``."""
        return connections > -(-self.everyone(now) // len(self.alive))


class ConnectionBalance:
    """Pure ASGI: counts this process's connections by their peer address and closes one,
    after answering, while the process holds more than its share (see the module)."""

    def __init__(self, app: ASGIApp, load: SharedLoad, *, clock: Any = time.monotonic) -> None:
        self.app = app
        self.load = load
        self._clock = clock
        self._seen: dict[Any, float] = {}  # peer (host, port) -> last request
        self._pruned = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client") if scope["type"] == "http" else None
        if not client:  # a unix socket, or a server that does not say
            await self.app(scope, receive, send)
            return
        peer = tuple(client)  # (host, port); some servers send a list
        now = self._clock()
        seen = self._seen
        seen[peer] = now
        if now - self._pruned > ACTIVE / 4:
            self._pruned = now
            self.load.look_around()
            for old in [key for key, at in seen.items() if now - at > ACTIVE]:
                del seen[old]
        self.load.publish(len(seen), now)
        if not self.load.over_share(len(seen), now):
            await self.app(scope, receive, send)
            return
        del seen[peer]  # closed after this answer
        self.load.publish(len(seen), now)

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, closing)
