"""The job runner does not wait out its sleep when a page is due: the doorbell of its
context wakes it (a page opened in this process), and between rounds it asks the paging
jobs' ``due`` read every ``poll`` seconds (a page opened by another process)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from warroom.services.comms.jobs import Job, JobRunner
from warroom.services.shared.doorbell import Doorbell


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class _Counter:
    def __init__(self) -> None:
        self.runs: list[float] = []
        self.due = False

    def run(self, now: datetime) -> int:
        self.runs.append(time.monotonic())
        self.due = False
        return 1


@contextmanager
def _running(jobs: list[Job], *, interval: float, poll: float = 0.25) -> Iterator[JobRunner]:
    ctx: Any = SimpleNamespace(clock=_Clock(), doorbell=Doorbell())
    runner = JobRunner(ctx, jobs, worker="test", poll=poll)
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop, interval), daemon=True)
    thread.start()
    try:
        yield runner
    finally:
        stop.set()
        ctx.doorbell.ring()
        thread.join(5)
        assert not thread.is_alive(), "the runner did not stop when rung"


def _wait(condition: Any, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_ring_runs_the_paging_jobs_at_once_whatever_their_period_and_leaves_the_others() -> None:
    paging, other = _Counter(), _Counter()
    jobs = [
        Job("other", timedelta(hours=1), other.run, exclusive=False),
        Job("page", timedelta(hours=1), paging.run, exclusive=False, on_ring=True),
    ]
    with _running(jobs, interval=30) as runner:
        _wait(lambda: len(paging.runs) == 1)
        rang = time.monotonic()
        runner.ctx.doorbell.ring()
        _wait(lambda: len(paging.runs) == 2)
    assert len(paging.runs) == 2 and paging.runs[1] - rang < 1.0
    assert len(other.runs) == 1  # its period has not passed: a ring does not run it


def test_a_due_read_between_rounds_starts_the_paging_jobs_without_a_ring() -> None:
    paging = _Counter()
    job = Job(
        "page", timedelta(hours=1), paging.run, exclusive=False, on_ring=True, due=lambda now: paging.due
    )
    with _running([job], interval=30, poll=0.05):
        _wait(lambda: len(paging.runs) == 1)
        time.sleep(0.2)
        assert len(paging.runs) == 1  # nothing due: the runner sleeps
        became_due = time.monotonic()
        paging.due = True
        _wait(lambda: len(paging.runs) == 2)
    assert len(paging.runs) == 2 and paging.runs[1] - became_due < 1.0


def test_a_ring_before_anyone_waits_is_kept_for_the_next_wait() -> None:
    bell = Doorbell()
    bell.ring()
    assert bell.wait(5) is True
    assert bell.wait(0.01) is False
