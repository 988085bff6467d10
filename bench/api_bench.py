"""Benchmark: the timeline API page of an incident with 10,000 events, and server memory.

Budgets (issue 3, DESIGN.md section 11): timeline page p95 <= 20 ms; server RSS <= 200 MB
after the benchmark. SQLite.

Setup appends the events in batches straight through the incident store (stamped into the
hash chain and folded as the use cases do). Then ``GET /api/v1/incidents/INC-1/timeline``
pages of 100 events at random cursors are timed twice: in process through the ASGI test
client, and over TCP against a real uvicorn on 127.0.0.1 with httpx; the server's RSS is
read from /proc after its requests.

    .venv/bin/python bench/api_bench.py [--events 10000] [--requests 300]
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from warroom import bootstrap
from warroom.bootstrap import App
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents.chain import stamp
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.fold import apply
from warroom.domain.incidents.state import IncidentState
from warroom.server import create_app
from warroom.services import operations as ops
from warroom.services.identity import auth
from warroom.services.incidents import commands as cases
from warroom.settings import Settings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

PAGE_BUDGET_MS = 20.0
RSS_BUDGET_MB = 200.0
BATCH = 500
PAGE = 100
PEOPLE = ("ana", "ben", "chen", "dee", "eli", "fay")

SERVER = """
import sys, uvicorn
from warroom.bootstrap import build
from warroom.server import create_app
from warroom.settings import Settings
app = create_app(build(Settings(database_url=sys.argv[1])))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def next_events(state: IncidentState, n: int, at: datetime, policy: object) -> list[NewEvent]:
    if n % 200 == 0:
        return rules.record_fact(state, f"fact {n}: error ratio {n % 17}%", "grafana", now=at, policy=policy)  # type: ignore[arg-type]
    if n % 100 == 0:
        return rules.post_update(state, f"update {n}: still mitigating", "internal", now=at, policy=policy)  # type: ignore[arg-type]
    return rules.add_note(state, f"note {n}: looked at the dashboards", pinned=False, now=at, policy=policy)  # type: ignore[arg-type]


def seed(app: App, events: int) -> str:
    ctx = app.context
    room = ops.declare(ctx, "pager", {"title": "A very long incident", "services": "checkout"})
    ref = str(room["id"])
    state = cases.get_incident(ctx, ref)
    start = datetime.now(UTC) - timedelta(hours=26)
    step = timedelta(hours=25) / events
    n = 1
    while state.version < events:
        batch = []
        for _ in range(min(BATCH, events - state.version)):
            at = start + step * n
            stamped = stamp(
                state.number,
                state.version,
                state.last_hash,
                next_events(state, n, at, ctx.policy),
                actor=PEOPLE[n % len(PEOPLE)],
                recorded_at=at,
            )
            for event in stamped:
                apply(state, event)
            batch.extend(stamped)
            n += 1
        with ctx.uow() as uow:
            uow.incidents.append(batch, state)
            uow.commit()
    return ref


def p95(timings: list[float]) -> float:
    ordered = sorted(timings)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def timed(get: object, paths: list[str]) -> list[float]:
    timings = []
    for path in paths:
        t0 = time.perf_counter()
        answer = get(path)  # type: ignore[operator]
        timings.append((time.perf_counter() - t0) * 1000)
        assert answer.status_code == 200, answer.text[:200]
    return timings


def report(label: str, timings: list[float]) -> float:
    worst = p95(timings)
    print(f"{label}: p50 {statistics.median(timings):.1f} ms  p95 {worst:.1f} ms  max {max(timings):.1f} ms")
    print(
        f"  budget p95 <= {PAGE_BUDGET_MS:.0f} ms; measured {worst:.1f} ms; ratio {worst / PAGE_BUDGET_MS:.2f}"
    )
    return worst


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(7)
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        app = bootstrap.build(Settings(database_url=url))
        began = time.perf_counter()
        ref = seed(app, args.events)
        version = cases.incident_version(app.context, ref) or 0
        print(f"setup: {version} events in {time.perf_counter() - began:.1f} s")
        token, _ = auth.create_token(app.context, "bench", "viewer")
        headers = {"Authorization": f"Bearer {token}"}
        paths = [
            f"/api/v1/incidents/{ref}/timeline?after={rng.randrange(0, version - PAGE)}&limit={PAGE}"
            for _ in range(args.requests)
        ]
        print(f"timeline page: {PAGE} events at a random cursor, {args.requests} requests each way")

        with TestClient(create_app(app, with_web=False), headers=headers) as client:
            timed(client.get, paths[:20])  # warm up
            cpu0 = time.process_time()
            timings = timed(client.get, paths)
            cpu = (time.process_time() - cpu0) * 1000 / len(paths)
            size = len(client.get(paths[0]).content)
        ok &= report(f"in process (TestClient), {size // 1024} KiB a page", timings) <= PAGE_BUDGET_MS
        print(f"  CPU {cpu:.1f} ms per request (client and server); load average {os.getloadavg()[0]:.1f}")

        port = free_port()
        server = subprocess.Popen([sys.executable, "-c", SERVER, url, str(port)])
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
                deadline = time.monotonic() + 30
                while True:
                    try:
                        if http.get("/readyz").status_code == 200:
                            break
                    except httpx.TransportError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.1)
                timed(http.get, paths[:20])
                timings = timed(http.get, paths)
                ok &= report("over TCP (uvicorn + httpx)", timings) <= PAGE_BUDGET_MS
                for _ in range(3):  # the other pages too, so RSS covers more than one route
                    assert http.get(f"/api/v1/incidents/{ref}").status_code == 200
                    assert http.get("/metrics").status_code == 200
            rss = rss_mb(server.pid)
            print(
                f"server RSS after the benchmark: budget <= {RSS_BUDGET_MB:.0f} MB; measured {rss:.0f} MB; ratio {rss / RSS_BUDGET_MB:.2f}"
            )
            ok &= rss <= RSS_BUDGET_MB
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
