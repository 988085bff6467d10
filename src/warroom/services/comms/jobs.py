"""Scheduled background work and the loop that runs it.

A :class:`Job` is a name, a period and a function of the current time. The
:class:`JobRunner` runs every job that is due, once per tick; ``warroom serve`` runs it
in a thread, ``warroom worker`` in its own process, and any number of them may run
against one PostgreSQL database:

- an *exclusive* job (the reminders) is leased through the ``jobs`` table, so one worker
  at a time runs it; each reminder is also deduplicated by its period's key in the
  outbox, so it fires exactly once even if a lease expires mid-run;
- a *shared* job (outbox delivery) runs on every worker; it leases its rows one by one,
  channel by channel in lanes of their own (``warroom.services.comms.delivery``), and
  waits for them only briefly: a hanging channel never holds up the runner.

Jobs are assembled in ``warroom.bootstrap.build_jobs``; a new kind of scheduled work
(the impact probe's mitigation checks, say) is one more ``Job`` there.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from warroom.domain.comms.announcements import reminder_notification
from warroom.domain.comms.reminders import Reminder, followups_overdue, rotations_due, update_overdue
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.errors import NotFound
from warroom.services.comms.outbox import catalog_or_empty, team_of
from warroom.services.ports.comms import OutboxMessage
from warroom.services.shared.context import Context

log = logging.getLogger("warroom.jobs")


@dataclass(frozen=True)
class Job:
    """``run(now)`` does one round of work and returns how many things it did; ``close``
    (when given) releases what the job keeps between rounds (threads, connections).
    A shared job with ``on_ring`` also runs, whatever its period, in the round the
    context's doorbell starts (a page just opened: fire its step, deliver it). ``due``
    (when given) is a cheap read saying whether the job has work due now; the runner asks
    it between rounds and, when it says yes, starts a round as if the doorbell rang: so a
    worker in another process, which hears no doorbell, still pages within a second."""

    name: str
    every: timedelta
    run: Callable[[datetime], int]
    exclusive: bool = True
    close: Callable[[], None] | None = None
    on_ring: bool = False
    due: Callable[[datetime], bool] | None = None


class JobRunner:
    """Runs due jobs; ``tick`` once (tests drive it with a fake clock), ``run`` until stopped.

    ``lease`` bounds how long an exclusive job may run before another worker may take it
    over; it should comfortably exceed the job's longest run.
    """

    def __init__(
        self,
        ctx: Context,
        jobs: Sequence[Job],
        *,
        worker: str,
        lease: timedelta = timedelta(minutes=5),
        on_close: Sequence[Callable[[], None]] = (),
        poll: float = 0.25,
    ) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names must be unique: {names}")
        self.ctx = ctx
        self.jobs = list(jobs)
        self.worker = worker
        self.lease = lease
        self._next_shared: dict[str, datetime] = {}
        self._on_close = list(on_close)
        self.poll = poll

    def tick(self, *, rung: bool = False, only_rung: bool = False) -> dict[str, int]:
        """Run each job that is due now (with ``rung``, the ``on_ring`` jobs too, and with
        ``only_rung`` those alone); returns what each that ran did."""
        done: dict[str, int] = {}
        for job in self.jobs:
            if only_rung and not job.on_ring:
                continue
            try:
                if job.exclusive:
                    count = self._run_exclusive(job)
                else:
                    count = self._run_shared(job, rung=rung and job.on_ring)
            except Exception:  # one failing job must not stop the others, nor the loop
                log.exception("job %s failed", job.name)
                continue
            if count is not None:
                done[job.name] = count
                if count:
                    log.info("%s: %s did %d", self.worker, job.name, count)
        return done

    def _run_shared(self, job: Job, *, rung: bool = False) -> int | None:
        now = self.ctx.clock.now()
        if not rung and now < self._next_shared.get(job.name, now):
            return None
        self._next_shared[job.name] = now + job.every
        return job.run(now)

    def _run_exclusive(self, job: Job) -> int | None:
        now = self.ctx.clock.now()
        token = secrets.token_hex(16)
        with self.ctx.uow() as uow:
            claimed = uow.jobs.claim(job.name, now, now + self.lease, token)
            uow.commit()
        if not claimed:
            return None
        error: str | None = None
        count = 0
        try:
            count = job.run(now)
        except Exception as exc:
            error = f"{type(exc).__name__}: {str(exc)[:500]}"
            raise
        finally:
            finished = self.ctx.clock.now()
            with self.ctx.uow() as uow:
                uow.jobs.finish(job.name, token, at=finished, next_run_at=now + job.every, error=error)
                uow.commit()
        return count

    def run(self, stop: threading.Event, interval: float) -> None:
        """Tick every ``interval`` seconds, and at once when the context's doorbell rings,
        until ``stop`` is set (ring the doorbell after setting it to stop without waiting)."""
        log.info("job runner %s: %s", self.worker, ", ".join(job.name for job in self.jobs))
        rung = False
        full_at = time.monotonic()
        while not stop.is_set():
            # Woken for a page, run only what pages (the rest keeps to its rounds), unless
            # a whole interval passed since the last full round.
            only = rung and time.monotonic() < full_at + interval
            if not only:
                full_at = time.monotonic()
            self.tick(rung=rung, only_rung=only)
            rung = self._sleep(stop, interval)

    def _sleep(self, stop: threading.Event, interval: float) -> bool:
        """Sleep up to ``interval`` seconds; True as soon as the doorbell rings or, every
        ``poll`` seconds, a job's ``due`` read finds work due now."""
        deadline = time.monotonic() + interval
        checks = [job.due for job in self.jobs if job.due is not None and job.on_ring]
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self.ctx.doorbell.wait(min(left, self.poll) if checks else left):
                return True
            if stop.is_set() or time.monotonic() >= deadline:
                return False
            now = self.ctx.clock.now()
            try:
                if any(check(now) for check in checks):
                    return True
            except Exception:  # a failing read must not stop the loop; the round will say why
                log.exception("job runner %s: checking for due work failed", self.worker)
                return False
        return False

    def close(self) -> None:
        for job in self.jobs:  # first the jobs (delivery lanes), then what they use
            if job.close is not None:
                job.close()
        for close in self._on_close:
            close()


# --- The reminder jobs -------------------------------------------------------------------


def _remind(
    ctx: Context, numbers: Sequence[int], now: datetime, pick: Callable[[IncidentState], list[Reminder]]
) -> int:
    sent = 0
    catalog = catalog_or_empty(ctx)
    for number in numbers:
        with ctx.uow() as uow:
            try:
                state = uow.incidents.load(number)
            except NotFound:
                continue
            due = pick(state)
            if not due:
                continue
            team = team_of(catalog, state.services)
            for reminder in due:
                message = OutboxMessage(reminder_notification(reminder, state, team=team))
                # The key names the period: a second worker, or a second run, adds nothing.
                sent += uow.outbox.add(message, now)
            uow.commit()
    return sent


def send_reminders(ctx: Context, now: datetime) -> int:
    """Overdue updates and due rotations on open incidents; returns how many were new."""
    with ctx.uow() as uow:
        numbers = uow.jobs.open_incidents()

    def due(state: IncidentState) -> list[Reminder]:
        overdue = update_overdue(state, now=now, policy=ctx.policy)
        return ([overdue] if overdue else []) + rotations_due(state, now=now, policy=ctx.policy)

    return _remind(ctx, numbers, now, due)


def send_followup_reminders(ctx: Context, now: datetime, *, every: timedelta) -> int:
    """Overdue follow-ups on every incident, closed ones included."""
    with ctx.uow() as uow:
        numbers = uow.jobs.incidents_with_followups()
    return _remind(ctx, numbers, now, lambda state: followups_overdue(state, now=now, every=every))
