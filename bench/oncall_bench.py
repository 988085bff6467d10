"""Benchmarks of on call.

Budgets (DESIGN.md section 11, a 2-core machine):

- "who is on call" over 1,000 schedules <= 50 ms: each schedule has a weekly rotation, a
  daily office-hours layer with a window, and a few overrides; every schedule is asked at
  one instant. Timed in the domain, and as the use case (``warroom oncall now``: read the
  schedules from the database, then ask);
- an escalation tick with 10,000 open pages <= 100 ms: 10,000 triggered and acknowledged
  pages wait on future steps and ack timeouts; the tick finds what is due. Also timed: a
  tick in which 100 of them are due (each fires its step in its own transaction);
- alert webhook -> first delivery attempt to the on-call person, p99 <= 2 s on the job
  runner: ``warroom serve`` runs as users run it (a process, the default ``[jobs]``
  settings), once with the jobs in the server and once with ``jobs.in_server = false`` and
  a ``warroom worker`` process beside it. Alertmanager bodies are posted over HTTP to
  ``/hooks/alertmanager``; each declares an incident, which opens its page; the job
  runner fires the step and delivers through the real Apprise library to an HTTP receiver
  in this process, which stamps the arrival.

    .venv/bin/python bench/oncall_bench.py [--schedules 1000] [--pages 10000] [--alerts 60]
        [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import warnings
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from warroom import bootstrap
from warroom.bootstrap import App
from warroom.domain.oncall import pages as pg
from warroom.domain.oncall import rotations as rot
from warroom.domain.oncall import schedules as sch
from warroom.domain.oncall.pages import PageStatus
from warroom.services.identity import auth
from warroom.services.oncall import directory, escalation, schedules
from warroom.settings import Settings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

WHO_BUDGET_MS = 50.0
TICK_BUDGET_MS = 100.0
WEBHOOK_P99_BUDGET_S = 2.0
WARM_UP_S = 5.0
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC", "America/Santiago")
NOW = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # in the night Europe moves its clocks


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _people(n: int) -> list[dict[str, Any]]:
    return [{"handle": f"p{i}", "name": f"Person {i}", "email": f"p{i}@example.com"} for i in range(n)]


def _schedule_doc(i: int) -> dict[str, Any]:
    members = [f"p{(i + k) % 50}" for k in range(4)]
    return {
        "name": f"s{i}",
        "time_zone": ZONES[i % len(ZONES)],
        "layers": [
            {"name": "weekly", "members": members, "start": "2026-01-05T09:00", "rotation": "weekly"},
            {
                "name": "office",
                "members": members[:2],
                "start": "2026-01-05T00:00",
                "rotation": "daily",
                "windows": ["mon-fri 09:00-17:00"],
            },
        ],
    }


def bench_who(app: App, count: int, runs: int) -> bool:
    from warroom.domain.oncall.documents import schedule_from

    found = []
    for i in range(count):
        item = schedule_from(_schedule_doc(i))
        for k in range(3):
            start = NOW + timedelta(days=k * 3 - 3, hours=i % 24)
            item = rot.add_override(item, rot.override(f"p{(i + 7) % 50}", start, start + timedelta(hours=8)))
        found.append(item)
    timings = []
    for run in range(runs):
        at = NOW + timedelta(minutes=37 * run)
        began = time.perf_counter()
        answered = [sch.who_is_on_call(s, at) for s in found]
        timings.append(time.perf_counter() - began)
    assert sum(a is not None for a in answered) == count
    domain = statistics.median(timings)
    directory.apply_document(
        app.context, {"people": _people(50), "schedules": [_schedule_doc(i) for i in range(count)]}
    )
    with app.context.uow() as uow:
        for i, item in enumerate(found):
            for override in item.overrides:
                uow.oncall.add_override(f"s{i}", override, "bench", NOW)
        uow.commit()
    service = []
    for run in range(max(3, runs // 4)):
        began = time.perf_counter()
        answer = schedules.on_call(app.context, NOW + timedelta(minutes=41 * run))
        service.append(time.perf_counter() - began)
    assert len(answer) == count
    ok = domain * 1000 <= WHO_BUDGET_MS
    print(
        f"who is on call, {count} schedules (2 layers, a window, 3 overrides each): "
        f"median {_ms(domain)} in the domain (budget {WHO_BUDGET_MS:g} ms) {'OK' if ok else 'OVER'}; "
        f"{_ms(statistics.median(service))} as the use case, the schedules read from the database"
    )
    return ok


def bench_tick(app: App, count: int, due: int, runs: int) -> bool:
    ctx = app.context
    config = bootstrap.build_oncall(app)
    directory.apply_document(
        ctx,
        {
            "people": [{"handle": "ivan", "name": "Ivan", "email": "ivan@example.com"}],
            "schedules": [
                {
                    "name": "ic",
                    "time_zone": "UTC",
                    "layers": [{"name": "l", "members": ["ivan"], "start": "2026-01-05T00:00"}],
                }
            ],
            "policies": [
                {"name": "ic", "fallback": True, "steps": [{"targets": ["schedule:ic"], "wait_minutes": 10}]}
            ],
        },
    )
    now = ctx.clock.now()
    with ctx.uow() as uow:
        for i in range(count):
            page = pg.open_page(title=f"page {i}", by="bench", now=now - timedelta(minutes=3), policy="ic")
            if i % 2:  # acknowledged, waiting for its ack timeout
                page = dataclasses.replace(
                    page, status=PageStatus.ACKNOWLEDGED, acked_by="ivan", acked_at=now, step=1
                )
            page = dataclasses.replace(page, due_at=now + timedelta(minutes=5 + i % 25))
            uow.oncall.add_page(page)
        uow.commit()
    idle = []
    for _ in range(runs):
        began = time.perf_counter()
        done = escalation.escalate(ctx, config, now)
        idle.append(time.perf_counter() - began)
        assert done == 0
    with ctx.uow() as uow:
        ids = uow.oncall.due_pages(now + timedelta(days=1), due * 2)
        for page_id in ids[::2][:due]:
            page = uow.oncall.page(page_id)
            assert page is not None
            uow.oncall.save_page(dataclasses.replace(page, due_at=now - timedelta(seconds=1)))
        uow.commit()
    began = time.perf_counter()
    fired = escalation.escalate(ctx, config, now)
    busy = time.perf_counter() - began
    ok = statistics.median(idle) * 1000 <= TICK_BUDGET_MS
    print(
        f"escalation tick, {count} open pages: median {_ms(statistics.median(idle))} when none is due "
        f"(budget {TICK_BUDGET_MS:g} ms) {'OK' if ok else 'OVER'}; {_ms(busy)} when {fired} fire "
        f"({_ms(busy / max(fired, 1))} a page: lock, decide, plan, outbox, commit)"
    )
    return ok


class _Arrivals:
    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.lock = threading.Lock()


def _receiver() -> tuple[ThreadingHTTPServer, _Arrivals]:
    arrivals = _Arrivals()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            at = time.perf_counter()
            title = json.loads(body).get("title", "")
            with arrivals.lock:
                arrivals.times.setdefault(title, at)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    return server, arrivals


def _alert_body(name: str, service: str) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "status": "firing",
        "receiver": "warroom",
        "groupLabels": {"alertname": name},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": name, "service": service, "severity": "critical"},
                "annotations": {"summary": f"errors on {service}"},
                "startsAt": datetime.now(UTC).isoformat(),
                "fingerprint": f"fp-{name}",
            }
        ],
    }


def _toml(url: str, in_server: bool) -> str:
    """The configuration users write: nothing under ``[jobs]`` but where the jobs run."""
    return (
        f'database_url = "{url}"\nsecret_key = "bench"\n\n[notify]\nbase_url = "http://warroom.bench"\n\n'
        '[[alerts.declare]]\nname = "all"\nseverity = "SEV2"\n'
        + ("" if in_server else "\n[jobs]\nin_server = false\n")
    )


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _webhook_run(url: str, folder: Path, alerts: int, *, in_server: bool) -> tuple[list[float], str]:
    """Start ``warroom serve`` (and, when the jobs are not in the server, ``warroom worker``)
    as users do, post ``alerts`` Alertmanager bodies over HTTP, and return the seconds from
    each POST to its page's first delivery attempt at the receiver."""
    import subprocess

    import httpx

    mode = "server" if in_server else "worker"
    server, arrivals = _receiver()
    receiver = f"json://127.0.0.1:{server.server_port}/page"
    config = folder / f"warroom-{mode}.toml"
    config.write_text(_toml(url, in_server))
    app = bootstrap.build(Settings(database_url=url, raw={"secret_key": "bench"}))
    with app.context.uow() as uow:  # one fallback policy (one database may serve both runs)
        for policy in uow.oncall.policies():
            uow.oncall.remove_policy(policy.name)
        uow.commit()
    directory.apply_document(
        app.context,
        {
            "people": [
                {
                    "handle": f"ivan-{mode}",
                    "name": "Ivan",
                    "contacts": [{"name": "push", "kind": "apprise", "address": receiver}],
                }
            ],
            "schedules": [
                {
                    "name": f"ic-{mode}",
                    "time_zone": "UTC",
                    "layers": [{"name": "l", "members": [f"ivan-{mode}"], "start": "2026-01-05T00:00"}],
                }
            ],
            "policies": [
                {
                    "name": f"ic-{mode}",
                    "fallback": True,
                    "steps": [{"targets": [f"schedule:ic-{mode}"], "wait_minutes": 10}],
                }
            ],
        },
    )
    token = auth.create_token(app.context, f"am-{mode}", "ingest", "alertmanager")[0]
    app.context.uow.args[0].dispose()  # type: ignore[attr-defined]  # the servers own the database now
    warroom = str(Path(sys.executable).with_name("warroom"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env["WARROOM_CONFIG"] = str(config)
    port = _free_port()
    log = open(folder / f"{mode}.log", "wb")  # noqa: SIM115
    started = [subprocess.Popen([warroom, "serve", "--port", str(port)], env=env, stdout=log, stderr=log)]
    if not in_server:
        started.append(subprocess.Popen([warroom, "worker"], env=env, stdout=log, stderr=log))
    log.close()
    base = f"http://127.0.0.1:{port}"
    sent: dict[str, float] = {}
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            if not in_server:
                while "every" not in (folder / f"{mode}.log").read_text(errors="replace"):
                    time.sleep(0.1)  # the worker has built its jobs
            # A runner loads Apprise and its plugins as it starts (about 2 s on a busy
            # machine); alerts are timed on a running server, not one still starting.
            time.sleep(WARM_UP_S)
            for i in range(alerts):
                name = f"Checkout{mode.title()}{i:04d}"
                began = time.perf_counter()
                answer = client.post(
                    "/hooks/alertmanager",
                    json=_alert_body(name, f"svc-{mode}-{i:04d}"),
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert answer.status_code == 200 and answer.json()["declared"], answer.text
                sent[name] = began
                time.sleep(random.uniform(0.05, 0.3))  # alerts arrive spread out, as they do
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with arrivals.lock:
                    if len(arrivals.times) >= alerts:
                        break
                time.sleep(0.05)
    finally:
        for process in reversed(started):
            process.terminate()
            process.wait(15)
        server.shutdown()
    latencies = []
    with arrivals.lock:
        for title, at in arrivals.times.items():
            name = next((n for n in sent if n in title), None)
            if name is not None:
                latencies.append(at - sent[name])
    how = "warroom serve, jobs in the server" if in_server else "warroom serve + warroom worker"
    return sorted(latencies), how


def bench_webhook(url: str | None, folder: str, alerts: int) -> bool:
    ok = True
    for in_server in (True, False):
        database = url or f"sqlite:///{Path(folder) / ('hook-server.db' if in_server else 'hook-worker.db')}"
        latencies, how = _webhook_run(database, Path(folder), alerts, in_server=in_server)
        if len(latencies) < alerts:
            print(f"alert webhook -> first delivery ({how}): only {len(latencies)} of {alerts} arrived  OVER")
            ok = False
            continue
        p50 = statistics.median(latencies)
        p99 = latencies[max(0, math.ceil(len(latencies) * 0.99) - 1)]
        fits = p99 <= WEBHOOK_P99_BUDGET_S
        ok &= fits
        print(
            f"alert webhook -> first delivery attempt, {alerts} alerts over HTTP, {how}, default [jobs], "
            f"up {WARM_UP_S:g} s before the first: "
            f"p50 {_ms(p50)}, p99 {_ms(p99)}, max {_ms(latencies[-1])} "
            f"(budget {WEBHOOK_P99_BUDGET_S:g} s, p99 at {p99 / WEBHOOK_P99_BUDGET_S:.0%} of it) "
            f"{'OK' if fits else 'OVER'}"
        )
    return ok


def _app(url: str | None, folder: str, name: str, clock: Any = None) -> App:
    database = url or f"sqlite:///{Path(folder) / name}"
    return bootstrap.build(Settings(database_url=database, raw={"secret_key": "bench"}), clock=clock)


class _Frozen:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=100)
    parser.add_argument("--alerts", type=int, default=60)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL URL of an empty database (default: SQLite files)"
    )
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work shares them)")
    if args.database_url:
        print("one database for all three parts: give an empty one")
    with tempfile.TemporaryDirectory() as folder:
        ok = bench_who(_app(args.database_url, folder, "who.db", _Frozen(NOW)), args.schedules, args.runs)
        ok &= bench_tick(
            _app(args.database_url, folder, "tick.db", _Frozen(NOW)), args.pages, args.due, args.runs
        )
        ok &= bench_webhook(args.database_url, folder, args.alerts)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
