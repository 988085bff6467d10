"""The background worker: runs the scheduled jobs (notification delivery, reminders).

``warroom worker`` runs :func:`run_worker` in its own process; ``warroom serve`` runs the
same runner in a thread (:func:`start_in_thread`) unless ``jobs.in_server = false``. Any
number of workers may share one PostgreSQL database (jobs and deliveries are leased); on
SQLite run one.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from warroom.bootstrap import JOBS_INTERVAL, App, build, build_runner
from warroom.services.comms.jobs import JobRunner
from warroom.settings import Settings, SettingsError

log = logging.getLogger("warroom.worker")

MIN_INTERVAL = 0.05


def interval_of(settings: Settings) -> float:
    return max(MIN_INTERVAL, settings.number("jobs", "interval_seconds", JOBS_INTERVAL))


def jobs_in_server(settings: Settings) -> bool:
    value = settings.section("jobs").get("in_server", True)
    if not isinstance(value, bool):
        raise SettingsError(f"jobs.in_server in {settings.config_path} must be true or false")
    return value


def run_worker(
    settings: Settings,
    *,
    once: bool = False,
    interval: float | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, int]:
    """Run the jobs until SIGTERM or SIGINT (or one round with ``once``)."""
    app = build(settings)
    runner = build_runner(app)
    try:
        if once:
            return runner.tick()
        every = max(MIN_INTERVAL, interval) if interval is not None else interval_of(settings)
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()
            app.context.doorbell.ring()  # stop now, not at the end of the sleep

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        echo(f"warroom worker {runner.worker}: {', '.join(j.name for j in runner.jobs)} every {every:g} s")
        runner.run(stop, every)
        echo("warroom worker stopped")
        return {}
    finally:
        runner.close()


@dataclass
class Background:
    """A job runner on a daemon thread; ``stop`` ends it after the current round."""

    runner: JobRunner
    thread: threading.Thread
    stopping: threading.Event

    def stop(self, timeout: float = 30.0) -> None:
        self.stopping.set()
        self.runner.ctx.doorbell.ring()
        self.thread.join(timeout)
        self.runner.close()


def start_in_thread(app: App) -> Background | None:
    """Start the jobs beside the server; None when ``jobs.in_server`` is false."""
    if not jobs_in_server(app.settings):
        log.info("background jobs are off in this server (jobs.in_server = false)")
        return None
    runner = build_runner(app)
    stopping = threading.Event()
    thread = threading.Thread(
        target=runner.run, args=(stopping, interval_of(app.settings)), name="warroom-jobs", daemon=True
    )
    thread.start()
    return Background(runner, thread, stopping)
