"""Benchmark: the incident room page of an incident with 10,000 timeline events.

Budget (DESIGN.md section 11): p95 <= 50 ms on a 2-core machine, SQLite.

Setup appends the events in batches straight through the incident store (stamped into the
hash chain and folded as the use cases do), then a logged-in responder loads
``/incidents/INC-1`` through the ASGI test client ``--requests`` times.

    .venv/bin/python bench/room_bench.py [--events 10000] [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI

from warroom import bootstrap
from warroom.bootstrap import App
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents.chain import stamp
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.fold import apply
from warroom.domain.incidents.state import IncidentState, Role
from warroom.services import operations as ops
from warroom.services.identity import auth
from warroom.services.incidents import commands as cases
from warroom.settings import Settings
from warroom.web.routes import build_router

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

BUDGET_MS = 50.0
BATCH = 500
PEOPLE = ("ana", "ben", "chen", "dee", "eli", "fay")


def next_events(state: IncidentState, n: int, at: datetime) -> list[NewEvent]:
    """A long incident's mix: mostly chatter, and a bounded ledger, decisions and updates."""
    policy = bootstrap.build_policy(Settings(database_url="sqlite://"))
    if n % 800 == 0:
        holder = state.roles.get(Role.COMMANDER.value)
        person = PEOPLE[(n // 800) % len(PEOPLE)]
        if holder is None:
            return rules.assign_role(state, Role.COMMANDER, person, now=at)
        if holder.person != person:
            return rules.hand_off_role(state, Role.COMMANDER, person, "rotation", now=at, policy=policy)
    if n % 200 == 0:
        return rules.record_fact(
            state, f"fact {n}: error ratio at {n % 17}%", "grafana", now=at, policy=policy
        )
    if n % 333 == 0:
        return rules.record_guess(state, f"guess {n}: a slow dependency", now=at, policy=policy)
    if n % 500 == 0:
        return rules.record_decision(
            state,
            f"decision {n}",
            "it is the fastest safe step",
            ["wait"],
            reversible=True,
            now=at,
            policy=policy,
        )
    if n % 100 == 0:
        return rules.post_update(state, f"update {n}: still mitigating", "internal", now=at, policy=policy)
    return rules.add_note(
        state, f"note {n}: looked at the dashboards again", pinned=False, now=at, policy=policy
    )


def seed(app: App, events: int) -> str:
    ctx = app.context
    ref = str(
        ops.declare(
            ctx, "pager", {"title": "A very long incident", "services": "checkout", "customer_impact": "12%"}
        )["id"]
    )
    state = cases.get_incident(ctx, ref)
    start = datetime.now(UTC) - timedelta(hours=26)
    step = timedelta(hours=25) / events
    n = 1
    while state.version < events:
        batch = []
        for _ in range(min(BATCH, events - state.version)):
            at = start + step * n
            new = next_events(state, n, at)
            stamped = stamp(
                state.number, state.version, state.last_hash, new, actor=PEOPLE[n % 6], recorded_at=at
            )
            for event in stamped:
                apply(state, event)
            batch.extend(stamped)
            n += 1
        with ctx.uow() as uow:
            uow.incidents.append(batch, state)
            uow.commit()
    return ref


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = bootstrap.build(Settings(database_url=f"sqlite:///{Path(folder) / 'bench.db'}"))
        began = time.perf_counter()
        ref = seed(app, args.events)
        version = cases.incident_version(app.context, ref)
        print(f"setup: {version} events in {time.perf_counter() - began:.1f} s")
        web = FastAPI()
        web.include_router(build_router())
        web.state.warroom = app
        plain, _ = auth.create_token(app.context, "bench", "responder")
        with TestClient(web, follow_redirects=False) as client:
            page = client.get("/login")
            csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            client.post("/login", data={"token": plain, "csrf_token": csrf})
            path = f"/incidents/{ref}"
            for _ in range(10):  # warm up: templates compiled, caches filled
                assert client.get(path).status_code == 200
            timings: list[float] = []
            cpu0 = time.process_time()
            for _ in range(args.requests):
                t0 = time.perf_counter()
                answer = client.get(path)
                timings.append((time.perf_counter() - t0) * 1000)
                assert answer.status_code == 200, answer.status_code
            cpu_ms = (time.process_time() - cpu0) * 1000 / args.requests
        timings.sort()
        p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
        print(f"room page, {version} events, {len(answer.content) // 1024} KiB, {args.requests} requests")
        print(f"  p50 {statistics.median(timings):.1f} ms  p95 {p95:.1f} ms  max {timings[-1]:.1f} ms")
        # wall time suffers when other work shares the cores; CPU time per request does not
        print(f"  CPU {cpu_ms:.1f} ms per request (server and client); load average {os.getloadavg()[0]:.1f}")
        print(f"budget p95 <= {BUDGET_MS:.0f} ms; measured {p95:.1f} ms; ratio {p95 / BUDGET_MS:.2f}")
        return 0 if p95 <= BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
