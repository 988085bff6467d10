"""Delivering the outbox channel by channel, so that one channel never waits on another.

A :class:`Dispatcher` round (the ``deliver_notifications`` job, ``warroom outbox
deliver``):

1. routes what is new (:func:`~warroom.services.comms.outbox.route_pending`): this never
   waits on a delivery;
2. asks the store which channels have due deliveries and starts, for each channel whose
   circuit is closed, up to ``concurrency`` lane threads (one, the probe, for a channel
   whose circuit is open and whose cool-down is over; none while it cools down);
3. each lane thread sends its channel's due deliveries one after another: lease (and
   count) the attempt, send it within the channel's hard deadline, record the result and
   the channel's health under the lease; it stops when nothing of its channel is due, or
   when the circuit opens;
4. waits at most ``settle`` seconds for the lanes, so quick receivers are reported in the
   round; a slow or hanging channel goes on in the background and holds up nothing else.

A failed attempt is scheduled for its retry in the store (``next_attempt_at``), never slept
on. An attempt that outlives its deadline is recorded as failed; its thread is left to
finish (the adapters' own timeouts end it soon after) and its answer is ignored. Every
worker process has its own lanes; the circuit lives in the database, so all of them skip
a failing channel.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
from collections.abc import Callable
from datetime import datetime

from warroom.services.comms.outbox import (
    AttemptResult,
    DeliveryReport,
    OutboxConfig,
    attempt,
    failed,
    resolve_channel,
    route_pending,
)
from warroom.services.ports.comms import Delivery, Notifier
from warroom.services.shared.context import Context

log = logging.getLogger("warroom.outbox")

MAX_THREADS = 64  # lanes of one worker, all channels together


class Dispatcher:
    """Per-channel lanes over one outbox. ``round()`` once per job run; ``close()`` at the end.

    ``settle``: seconds a round waits for its lanes (None: until every lane is idle).
    ``limit``: attempts in all (None: no limit), for a bounded one-off round.
    """

    def __init__(
        self,
        ctx: Context,
        config: OutboxConfig,
        notifier: Notifier,
        *,
        settle: float | None = 1.0,
        limit: int | None = None,
        rand: Callable[[], float] = random.random,
        max_threads: int = MAX_THREADS,
    ) -> None:
        self.ctx = ctx
        self.config = config
        self.notifier = notifier
        self.settle = settle
        self._rand = rand
        self._budget = limit
        self._max_threads = max_threads
        self._idle = threading.Condition()
        self._active: dict[str, int] = {}
        self._report = DeliveryReport()
        self._stopping = threading.Event()

    # --- a round ---------------------------------------------------------------------

    def run(self, now: datetime | None = None) -> int:
        """The job's entry: one round; returns the attempts that finished during it."""
        return self.round().attempts

    def round(self) -> DeliveryReport:
        routed = route_pending(self.ctx, self.config)
        self.dispatch()
        self.wait(self.settle)
        with self._idle:
            report, self._report = self._report, DeliveryReport()
        report.routed = routed
        return report

    def dispatch(self) -> list[str]:
        """Start lanes for the channels with due deliveries; returns the channels skipped
        because their circuit is open."""
        now = self.ctx.clock.now()
        with self.ctx.read() as uow:
            due = uow.outbox.due_channels(now)
            circuits = uow.outbox.open_circuits() if due else {}
        held: list[str] = []
        for channel, count in due.items():
            until = circuits.get(channel)
            if until is not None and until > now:
                held.append(channel)  # cooling down: its deliveries wait, untried
                continue
            self._start(channel, 1 if until is not None else min(self.config.concurrency, count))
        return held

    def wait(self, timeout: float | None) -> bool:
        """Wait until no lane runs (at most ``timeout`` seconds); True when none does."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._active, timeout)

    def close(self, timeout: float | None = None) -> None:
        """Stop starting attempts; wait a little for the ones in flight (by default their
        deadline, at most 5 s: an attempt left behind keeps its lease, which runs out, and
        the delivery goes out again with the same key)."""
        self._stopping.set()
        longest = max(self.config.deadline, self.config.email_deadline).total_seconds()
        self.wait(min(longest + 0.5, 5.0) if timeout is None else timeout)

    @property
    def active(self) -> dict[str, int]:
        """Lane threads running now, by channel."""
        with self._idle:
            return dict(self._active)

    # --- lanes -----------------------------------------------------------------------

    def _start(self, channel: str, lanes: int) -> None:
        with self._idle:
            if self._stopping.is_set():
                return
            running = self._active.get(channel, 0)
            for _ in range(lanes - running):
                if sum(self._active.values()) >= self._max_threads:
                    log.warning("delivery lanes: all %d threads busy; %s waits", self._max_threads, channel)
                    return
                self._active[channel] = self._active.get(channel, 0) + 1
                thread = threading.Thread(
                    target=self._lane, args=(channel,), name=f"warroom-lane:{channel}", daemon=True
                )
                thread.start()

    def _lane(self, channel: str) -> None:
        try:
            while not self._stopping.is_set() and self._spend():
                if not self._one(channel):
                    self._refund()
                    break
        except Exception:  # the database went away, say: the next round starts it again
            log.exception("delivery lane %s stopped", channel)
        finally:
            with self._idle:
                self._active[channel] -= 1
                if not self._active[channel]:
                    del self._active[channel]
                self._idle.notify_all()

    def _spend(self) -> bool:
        with self._idle:
            if self._budget is None:
                return True
            if self._budget <= 0:
                return False
            self._budget -= 1
            return True

    def _refund(self) -> None:
        with self._idle:
            if self._budget is not None:
                self._budget += 1

    def _one(self, channel: str) -> bool:
        """Send the next due delivery of ``channel``; False when there is none, or its
        circuit is open."""
        ctx, config = self.ctx, self.config
        now = ctx.clock.now()
        token = secrets.token_hex(16)
        with ctx.uow() as uow:
            claimed = uow.outbox.claim(now, now + config.lease, token, channel)
            if claimed is None:
                return False
            if uow.outbox.admit(channel, now, now + config.circuit_cooldown) is None:
                return False  # opened meanwhile: leaving without commit undoes the claim
            uow.commit()
        result = self._send(claimed)
        at = ctx.clock.now()
        with ctx.uow() as uow:
            kept = uow.outbox.finish(
                claimed.id,
                token,
                at=at,
                status=result.status,
                error=result.error,
                next_attempt_at=result.next_attempt_at,
            )
            if result.health is not None:
                uow.outbox.record(
                    channel,
                    result.health == "ok",
                    at=at,
                    error=result.error,
                    open_after=config.circuit_failures,
                    open_until=at + config.circuit_cooldown,
                )
            uow.commit()
        if not kept:
            log.warning("delivery %s: lease expired during the attempt; another worker owns it", claimed.id)
        elif result.health == "failed":
            log.warning("delivery %s to %s failed: %s", claimed.id, channel, result.error)
        with self._idle:
            if result.status == "delivered":
                self._report.delivered += 1
            elif result.status == "dead":
                self._report.dead += 1
            else:
                self._report.retrying += 1
        return True

    def _send(self, claimed: Delivery) -> AttemptResult:
        """The attempt, cut off at the channel's deadline."""
        if resolve_channel(claimed.channel, self.config) is None:  # nothing to wait for
            return attempt(claimed, self.config, self.notifier, self.ctx, self._rand)
        deadline = self.config.deadline_of(claimed.channel).total_seconds()
        box: list[AttemptResult] = []

        def send() -> None:
            box.append(attempt(claimed, self.config, self.notifier, self.ctx, self._rand))

        sender = threading.Thread(target=send, name=f"warroom-send:{claimed.channel}", daemon=True)
        sender.start()
        sender.join(deadline)
        if box:
            return box[0]
        # Still sending: the receiver has not answered in time. Its thread ends with the
        # adapter's own timeout; whatever it finds then is ignored.
        message = f"channel {claimed.channel}: no answer within {deadline:g} s (the attempt's deadline)"
        return failed(claimed, self.config, self.ctx, self._rand, message)


def deliver(
    ctx: Context,
    config: OutboxConfig,
    notifier: Notifier,
    *,
    limit: int = 200,
    rand: Callable[[], float] = random.random,
) -> DeliveryReport:
    """Route what is new, then send what is due (up to ``limit`` attempts), and wait until
    every channel's lane has nothing due: one round of ``warroom outbox deliver``.

    Channels are served side by side (see :class:`Dispatcher`),
    so the round lasts about as long as its slowest channel's attempts, never their sum."""
    dispatcher = Dispatcher(ctx, config, notifier, rand=rand, limit=limit, settle=None)
    try:
        return dispatcher.round()
    finally:
        dispatcher.close()
