"""The background worker: runs the scheduled jobs (notification delivery, reminders).

``warroom worker`` runs :func:`run_worker` in its own process; ``warroom serve`` runs the
same runner in a thread (:func:`start_in_thread`) unless ``jobs.in_server = false``. Any
number of workers may share one PostgreSQL database (jobs and deliveries are leased); on
SQLite run one.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

from warroom.bootstrap import JOBS_INTERVAL, App, build, build_runner
from warroom.services.comms.jobs import JobRunner
from warroom.services.incidents import monitoring
from warroom.settings import Settings, SettingsError
from warroom.storage.migrate import DatabaseUnreachable

log = logging.getLogger("warroom.worker")

MIN_INTERVAL = 0.05
RECONNECT_SECONDS = 2.0  # between attempts while the database does not answer at start


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
    health: tuple[str, int] | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, int]:
    """Run the jobs until SIGTERM or SIGINT (or one round with ``once``).

    ``health`` (host, port) serves ``/healthz`` and ``/readyz`` for a supervisor or a
    balancer: ``/readyz`` answers 503 until the database answers, and whenever it stops
    answering. A long-running worker whose database does not answer at start waits for it
    (not ready meanwhile) instead of exiting; ``once`` fails at once."""
    if once:
        app = build(settings)
        runner = build_runner(app)
        try:
            return runner.tick()
        finally:
            runner.close()
    stop = threading.Event()

    probe = Readiness()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()
        if probe.app is not None:
            probe.app.context.doorbell.ring()  # stop now, not at the end of the sleep

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server = serve_health(probe, *health) if health else None
    if server is not None:
        echo(f"warroom worker health on http://{health[0]}:{server.server_address[1]}/readyz")  # type: ignore[index]
    try:
        built = _build_when_reachable(settings, stop, echo)
        if built is None:
            return {}
        probe.app = built
        runner = build_runner(built)
        try:
            every = max(MIN_INTERVAL, interval) if interval is not None else interval_of(settings)
            echo(
                f"warroom worker {runner.worker}: {', '.join(j.name for j in runner.jobs)} every {every:g} s"
            )
            runner.run(stop, every)
            echo("warroom worker stopped")
            return {}
        finally:
            runner.close()
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()


def _build_when_reachable(
    settings: Settings, stop: threading.Event, echo: Callable[[str], None]
) -> App | None:
    """Build the App, waiting while the database does not answer; None when stopped first."""
    said = ""
    while not stop.is_set():
        try:
            return build(settings)
        except DatabaseUnreachable as exc:
            if str(exc) != said:
                said = str(exc)
                echo(f"warroom worker not ready: {exc}; trying again every {RECONNECT_SECONDS:g} s")
            stop.wait(RECONNECT_SECONDS)
    return None


class Readiness:
    """What ``/readyz`` reports: not ready before the App is built, then a live read."""

    def __init__(self) -> None:
        self.app: App | None = None

    def check(self) -> tuple[int, dict[str, str]]:
        if self.app is None:
            return 503, {"status": "not ready", "detail": "the database does not answer yet"}
        try:
            monitoring.database_ready(self.app.context)
        except Exception as exc:
            log.warning("not ready: the database does not answer (%s)", type(exc).__name__)
            return 503, {"status": "not ready", "detail": "the database does not answer"}
        return 200, {"status": "ready"}


def serve_health(probe: Readiness, host: str, port: int) -> ThreadingHTTPServer:
    """``/healthz`` and ``/readyz`` on a daemon thread (stdlib HTTP: a worker runs no ASGI app)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/healthz":
                status, body = 200, {"status": "ok"}
            elif self.path == "/readyz":
                status, body = probe.check()
            else:
                status, body = 404, {"status": "not found"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="warroom-worker-health", daemon=True).start()
    return server


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
