"""How a use case tells this process's job runner that work is due now.

The job runner sleeps ``jobs.interval_seconds`` between rounds. A page opened by an alert
must reach the on-call person within seconds, so the use case that opens it rings the
doorbell after its commit and the runner in the same process (``warroom serve``) wakes at
once instead of at the end of its sleep. A runner in another process (``warroom worker``)
does not hear it and finds the work on its next round (every second by default).
"""

from __future__ import annotations

import threading


class Doorbell:
    """A wake-up call across threads: ``ring`` never blocks; ``wait`` sleeps until a ring
    or the timeout, and says whether it was rung (a ring while nobody waits is kept for
    the next ``wait``)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def ring(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        rung = self._event.wait(timeout)
        self._event.clear()
        return rung
