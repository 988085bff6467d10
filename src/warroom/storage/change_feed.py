"""Which incidents changed, told by PostgreSQL to every replica (LISTEN/NOTIFY).

The incident store sends ``pg_notify('warroom_incident_changed', '<number>')`` in the
transaction that appends events, so the notification goes out on commit, to every
process listening on the database. :class:`ChangeFeed` is that listener: one connection
of its own per process (outside the pool), a thread that hands each number to
``on_change``, and a reconnect loop; after a reconnect it calls ``on_change(EVERYTHING)``,
since changes made while it was away were not told. SQLite has no such feed (one process
serves it; the live room reads the version instead).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

CHANNEL = "warroom_incident_changed"
EVERYTHING = 0  # incident numbers start at 1
RECONNECT_SECONDS = 1.0

log = logging.getLogger("warroom.changes")


class ChangeFeed:
    """``start()`` listens on a thread; ``stop()`` ends it (within about ``poll`` seconds)."""

    def __init__(self, engine: Engine, on_change: Callable[[int], None], *, poll: float = 0.5) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("the change feed needs PostgreSQL")
        self._engine = engine
        self._on_change = on_change
        self._poll = poll
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="warroom-change-feed", daemon=True)
        self.connected = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _connect(self) -> Any:
        # The dialect's own arguments: a multi-host URL and its target_session_attrs hold here too.
        cargs, cparams = self._engine.dialect.create_connect_args(self._engine.url)
        cparams.setdefault("connect_timeout", 3)
        connection = self._engine.dialect.loaded_dbapi.connect(*cargs, **cparams)
        connection.autocommit = True
        connection.execute(f"LISTEN {CHANNEL}")
        return connection

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                connection = self._connect()
            except Exception as exc:
                log.warning("change feed: cannot listen (%s); again in %g s", _line(exc), RECONNECT_SECONDS)
                self._stopping.wait(RECONNECT_SECONDS)
                continue
            try:
                self.connected.set()
                self._on_change(EVERYTHING)  # anything may have changed while nobody listened
                while not self._stopping.is_set():
                    for note in connection.notifies(timeout=self._poll):
                        if note.payload.isdecimal():
                            self._on_change(int(note.payload))
            except Exception as exc:
                log.warning("change feed: connection lost (%s); reconnecting", _line(exc))
            finally:
                self.connected.clear()
                try:
                    connection.close()
                except Exception:  # already broken
                    log.debug("change feed: close failed", exc_info=True)


def _line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
