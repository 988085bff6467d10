"""Exactly once, with the real job runner: two workers on one PostgreSQL database tick
concurrently while the clock moves, across a restart of both; 100 pages, and every step
of every page is on its incident's timeline once."""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tests.comms.support import FakeClock, Receiver
from tests.oncall.world import make_world, settings_for
from warroom.bootstrap import build_runner
from warroom.domain.shared.timefmt import from_iso
from warroom.services.comms.jobs import JobRunner
from warroom.services.incidents import commands as cases

PAGES = 100


def _spin(runner: JobRunner, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=runner.run, args=(stop, 0.01), daemon=True)
    thread.start()
    return thread


def test_two_workers_fire_every_step_of_100_pages_once_across_a_restart(
    postgres_url: str, build_app: Callable[..., Any], clock: FakeClock, receiver: Receiver
) -> None:
    world = make_world(build_app(postgres_url, clock=clock), receiver, None)
    numbers = []
    for i in range(PAGES):
        state = world.declare(title=f"checkout errors {i}")
        assert world.page_incident(state) is not None
        numbers.append(state.number)

    def runners(tag: str) -> list[JobRunner]:
        made = []
        for n in (1, 2):
            app = build_app(postgres_url, clock=clock)
            app = dataclasses.replace(app, settings=settings_for(postgres_url, None))
            made.append(build_runner(app, worker=f"{tag}-{n}"))
        return made

    def run_for(steps: int, tag: str) -> None:
        stop = threading.Event()
        workers = runners(tag)
        threads = [_spin(r, stop) for r in workers]
        for _ in range(steps):
            _settle(world, numbers)
            clock.advance(minutes=5)
        _settle(world, numbers)
        stop.set()
        for thread in threads:
            thread.join(30)
        for r in workers:
            r.close()

    run_for(1, "before")  # step 1 and step 2 fire under the first pair of workers
    run_for(3, "after")  # the restarted pair falls back, fires the fallback's step, stops
    for number in numbers:
        events = [e for e in cases.timeline(world.ctx, number) if e.kind.startswith("page_")]
        counts = Counter(
            (e.kind, e.payload.get("step"), e.payload.get("policy"))
            for e in events
            if e.kind not in ("page_notified", "page_delivered")
        )
        delivered = Counter(
            (e.payload["person"], e.payload["method"]) for e in events if e.kind == "page_delivered"
        )
        assert all(n == 1 for n in delivered.values()), delivered  # each delivery recorded once
        notified = Counter(
            (e.payload["step"], e.payload["person"], e.payload["method"])
            for e in events
            if e.kind == "page_notified"
        )
        assert set(notified.values()) == {1} and len(notified) == 4, notified  # alice twice, bob, ivan
        assert counts == Counter(
            {
                ("page_opened", None, "payments"): 1,
                ("page_escalated", 1, "payments"): 1,
                ("page_escalated", 2, "payments"): 1,
                ("page_fell_back", None, "fallback"): 1,
                ("page_escalated", 1, "fallback"): 1,
                ("page_exhausted", None, None): 1,
            }
        ), number
        escalated = [e for e in events if e.kind == "page_escalated"]
        for before, after in itertools.pairwise(escalated):
            due = from_iso(before.payload["next_at"])
            assert timedelta(0) <= after.occurred_at - due <= timedelta(minutes=5)


def _settle(world: Any, numbers: list[int], rounds: int = 400) -> None:
    """Wait until the workers have nothing due (every due page advanced)."""
    import time

    for _ in range(rounds):
        with world.ctx.read() as uow:
            if not uow.oncall.due_pages(world.ctx.clock.now(), 1):
                return
        time.sleep(0.02)
    raise AssertionError("the workers did not catch up")
