"""Benchmarks of learning, on SQLite.

Budgets (DESIGN.md section 11, a 2-core machine):

- postmortem draft of a 10,000-event incident <= 1 s: ``warroom postmortem draft`` as a
  use case (load the state and every event, build the document, lint it, store it);
- ``warroom report`` over 50,000 incidents <= 2 s: the history is seeded through the import
  use case (a generated JSON file), then the review runs in-process and as the real CLI
  (a fresh ``warroom report --json`` process: start-up included).

    .venv/bin/python bench/learning_bench.py [--events 10000] [--incidents 50000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warroom import bootstrap
from warroom.bootstrap import App
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents import mitigation as mitigations
from warroom.domain.incidents.chain import stamp
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.fold import apply
from warroom.domain.incidents.mitigation import MitigationKind, MitigationPlan, Risk
from warroom.domain.incidents.state import IncidentState, Role
from warroom.domain.learning.postmortem import draft
from warroom.services import operations as ops
from warroom.services.incidents import commands as cases
from warroom.services.learning import cases as learning
from warroom.services.learning import operations as lops
from warroom.settings import Settings

DRAFT_BUDGET_S = 1.0
REPORT_BUDGET_S = 2.0
BATCH = 500
PEOPLE = ("ana", "ben", "chen", "dee", "eli", "fay")
SERVICES = ("checkout", "payments", "search", "inventory", "accounts", "shipping", "ads", "email")
FACTORS = ("detection", "process", "tooling", "change", "capacity", "dependency", "other")
POLICY = bootstrap.build_policy(Settings(database_url="sqlite://"))


def next_events(state: IncidentState, n: int, at: datetime) -> list[NewEvent]:
    """A long incident's mix: chatter, a ledger, decisions, updates, role rotations and
    mitigations that are proposed, applied and judged."""
    if n % 800 == 0:
        holder = state.roles.get(Role.COMMANDER.value)
        person = PEOPLE[(n // 800) % len(PEOPLE)]
        if holder is None:
            return rules.assign_role(state, Role.COMMANDER, person, now=at)
        if holder.person != person:
            return rules.hand_off_role(state, Role.COMMANDER, person, "rotation", now=at, policy=POLICY)
    if n % 300 == 0:
        plan = MitigationPlan(f"mitigation {n}", MitigationKind.SCALE, Risk.LOW, expected_minutes=3)
        return mitigations.propose(state, plan, now=at, policy=POLICY)
    proposed = [m for m in state.mitigations if m.state == "proposed"]
    if n % 300 == 5 and proposed:
        return mitigations.apply(state, proposed[-1].ref, None, now=at, policy=POLICY)
    applied = [m for m in state.mitigations if m.state == "applied"]
    if n % 300 == 10 and applied:
        return mitigations.record_outcome(
            state, applied[-1].ref, "ineffective", note=None, now=at, policy=POLICY
        )
    if n % 200 == 0:
        return rules.record_fact(
            state, f"fact {n}: error ratio at {n % 17}%", "grafana", now=at, policy=POLICY
        )
    if n % 500 == 0:
        return rules.record_decision(
            state, f"decision {n}", "fastest safe step", ["wait"], reversible=True, now=at, policy=POLICY
        )
    if n % 100 == 0:
        return rules.post_update(state, f"update {n}: still mitigating", "internal", now=at, policy=POLICY)
    return rules.add_note(
        state, f"note {n}: looked at the dashboards", pinned=n % 50 == 0, now=at, policy=POLICY
    )


def seed_long_incident(app: App, events: int) -> str:
    ctx = app.context
    body = {"title": "A very long incident", "services": "checkout", "customer_impact": "12%"}
    ref = str(ops.declare(ctx, "pager", body)["id"])
    state = cases.get_incident(ctx, ref)
    start = datetime.now(UTC) - timedelta(hours=26)
    step = timedelta(hours=25) / events
    n = 1
    while state.version < events - 1:
        batch = []
        for _ in range(min(BATCH, events - 1 - state.version)):
            at = start + step * n
            for event in stamp(
                state.number,
                state.version,
                state.last_hash,
                next_events(state, n, at),
                actor=PEOPLE[n % 6],
                recorded_at=at,
            ):
                apply(state, event)
                batch.append(event)
            n += 1
        with ctx.uow() as uow:
            uow.incidents.append(batch, state)
            uow.commit()
    ops.resolve(ctx, "ana", ref, {"summary": "scaled out", "impact_stopped": True, "risk_controlled": True})
    return ref


def history(count: int, seed: int = 7) -> str:
    """``count`` incidents over two years, in the documented JSON shape."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    items = []
    for index in range(count):
        declared = start + timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
        impact = declared - timedelta(minutes=rng.randrange(1, 90))
        detected = impact + (declared - impact) * rng.random()

        def later(base: datetime, low: int, high: int) -> str:
            return (base + timedelta(seconds=rng.randrange(low, high))).isoformat()

        items.append(
            {
                "id": f"H{index}",
                "title": f"history {index}",
                "services": rng.sample(SERVICES, rng.choice((1, 1, 1, 2))),
                "severity": rng.choice(("SEV1", "SEV2", "SEV2", "SEV3", "SEV3", "SEV4")),
                "impact_started_at": impact.isoformat(),
                "detected_at": detected.isoformat(),
                "declared_at": declared.isoformat(),
                "acknowledged_at": later(declared, 30, 1800),
                "mitigated_at": later(declared, 300, 4 * 3600),
                "resolved_at": later(declared, 4 * 3600, 12 * 3600),
                "contributing_factors": rng.sample(FACTORS, rng.randrange(0, 3)),
                "followups_done_at": [later(declared, 86400, 60 * 86400) for _ in range(rng.randrange(0, 3))],
            }
        )
    return json.dumps(items)


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the CLI runs as one)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(call: Callable[[], object], runs: int) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of each run."""
    timings = []
    for _ in range(runs):
        began, cpu = time.perf_counter(), _cpu()
        call()
        timings.append((time.perf_counter() - began, _cpu() - cpu))
    return timings


def verdict(name: str, timings: list[tuple[float, float]], budget: float) -> bool:
    """Judged on the median wall time; CPU time is printed too, because wall time grows
    when other work shares the two cores and CPU time much less."""
    wall = statistics.median(t for t, _ in timings)
    cpu = statistics.median(c for _, c in timings)
    print(
        f"  {name}: median {wall:.3f} s wall ({cpu:.3f} s CPU), worst {max(t for t, _ in timings):.3f} s "
        f"of {len(timings)}; budget {budget:.1f} s; ratio {wall / budget:.2f} wall, {cpu / budget:.2f} CPU"
    )
    return wall <= budget


def bench_draft(folder: Path, events: int, runs: int) -> bool:
    app = bootstrap.build(Settings(database_url=f"sqlite:///{folder / 'draft.db'}"))
    began = time.perf_counter()
    ref = seed_long_incident(app, events)
    print(
        f"postmortem draft: seeded {cases.incident_version(app.context, ref)} events in {time.perf_counter() - began:.1f} s"
    )
    ctx = app.context
    with ctx.uow() as uow:
        state, all_events = uow.incidents.load(int(ref[4:])), uow.incidents.events(int(ref[4:]))
    domain = timed(lambda: draft(state, all_events, now=datetime.now(UTC)), runs)
    print(f"  domain draft alone: median {statistics.median(t for t, _ in domain) * 1000:.0f} ms")
    result = learning.draft_postmortem(ctx, ref, "bench")
    print(f"  {len(result.document.timeline)} timeline entries, {len(result.document.prompts)} prompts")
    return verdict(
        "warroom postmortem draft (use case)",
        timed(lambda: learning.draft_postmortem(ctx, ref, "bench"), runs),
        DRAFT_BUDGET_S,
    )


def bench_report(folder: Path, incidents: int, runs: int) -> bool:
    url = f"sqlite:///{folder / 'report.db'}"
    app = bootstrap.build(Settings(database_url=url))
    content = history(incidents)
    began = time.perf_counter()
    result = lops.import_history(app.context, "bench", {"format": "json", "content": content})
    print(
        f"report: imported {result['imported']} incidents ({len(content) // 1024} KiB) in {time.perf_counter() - began:.1f} s"
    )
    in_process = timed(lambda: lops.report(app.context, {}), runs)
    ok = verdict("report, in-process", in_process, REPORT_BUDGET_S)
    env = dict(os.environ, WARROOM_DATABASE_URL=url, WARROOM_CONFIG=str(folder / "none.toml"))
    (folder / "none.toml").write_text("")
    command = [str(Path(sys.executable).parent / "warroom"), "report", "--json"]

    def cli() -> None:
        done = subprocess.run(command, env=env, capture_output=True, check=True)
        assert json.loads(done.stdout)["incidents"] == incidents

    return verdict("warroom report --json (a fresh process)", timed(cli, runs), REPORT_BUDGET_S) and ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--incidents", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work shares them)")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        drafted = bench_draft(folder, args.events, args.runs)
        reported = bench_report(folder, args.incidents, args.runs)
    return 0 if drafted and reported else 1


if __name__ == "__main__":
    sys.exit(main())
