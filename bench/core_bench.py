"""Benchmarks of the incident core against the budgets of DESIGN.md section 11 and issue 2.

Prints one line per figure: what, budget, measured, ratio (measured / budget; <= 1 is
within budget). Not a test: the numbers depend on the machine. Run it with

    .venv/bin/python bench/core_bench.py [--runs 7] [--events 10000] [--incidents 200]

Everything happens in a temporary folder with its own SQLite database.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from warroom.bootstrap import App, build
from warroom.domain.incidents.chain import stamp
from warroom.domain.incidents.commands import Declaration
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.fold import apply
from warroom.domain.incidents.severity import Impact, IncidentKind
from warroom.domain.incidents.state import Role
from warroom.services.incidents import commands as cases
from warroom.settings import Settings

WARROOM = Path(sys.executable).parent / "warroom"
LINE = "{what:<58} {budget:>9} {measured:>10} {ratio:>7}"


def report(what: str, budget_s: float, measured_s: float) -> None:
    print(
        LINE.format(
            what=what,
            budget=f"{budget_s * 1000:.0f} ms",
            measured=f"{measured_s * 1000:.0f} ms",
            ratio=f"{measured_s / budget_s:.2f}",
        )
    )


class Clock:
    """Real time, but strictly increasing by at least a microsecond per call."""

    def __init__(self) -> None:
        self.last = datetime.now(UTC) - timedelta(days=1)

    def now(self) -> datetime:
        self.last = max(datetime.now(UTC) - timedelta(days=1), self.last + timedelta(microseconds=1))
        return self.last


def declaration(i: int) -> Declaration:
    services = [["checkout"], ["payments"], ["search", "checkout"], ["inventory"]][i % 4]
    share = [0.01, 0.07, 0.3, None][i % 4]
    return Declaration(
        title=f"Incident number {i}: errors on {services[0]}",
        kind=IncidentKind.AVAILABILITY,
        services=services,
        impact=Impact(customer_share=share),
    )


def make_app(folder: Path, name: str) -> tuple[App, str]:
    url = f"sqlite:///{folder / name}"
    return build(Settings(database_url=url), clock=Clock()), url


def dispose(app: App) -> None:
    app.context.uow.args[0].dispose()  # type: ignore[attr-defined]


def event_mix(i: int, at: datetime, kind: str) -> NewEvent:
    """Chatter only (``notes``), or a room that grows: facts, guesses and updates (``mixed``)."""
    if kind == "notes" or i % 20 >= 6:
        return NewEvent(
            "note_added", {"text": f"note {i}: checked the dashboards again", "pinned": False}, at
        )
    if i % 20 < 3:
        return NewEvent("fact_recorded", {"ref": "", "text": f"fact {i}", "source": "Grafana"}, at)
    if i % 20 < 5:
        return NewEvent("guess_recorded", {"ref": "", "text": f"guess {i}"}, at)
    return NewEvent(
        "status_update_posted",
        {"ref": "", "text": f"update {i}", "audience": "internal", "next_due": None},
        at,
    )


def with_ref(event: NewEvent, counters: dict[str, int]) -> NewEvent:
    prefix = {"fact_recorded": "F", "guess_recorded": "G", "status_update_posted": "U"}.get(event.kind)
    if prefix is None:
        return event
    counters[prefix] = counters.get(prefix, 0) + 1
    return NewEvent(event.kind, {**event.payload, "ref": f"{prefix}{counters[prefix]}"}, event.occurred_at)


def append_in_batches(app: App, count: int, mix: str, batch: int = 100) -> tuple[str, float]:
    """Declare one incident, then append ``count`` events through the store, ``batch`` per
    transaction (the state kept in memory, as the service does between load and append)."""
    ctx = app.context
    state = cases.declare_incident(ctx, declaration(0), "bench")
    cases.assign_role(ctx, state.ref, "bench", Role.COMMANDER, "alice")
    state = cases.get_incident(ctx, state.ref)
    counters: dict[str, int] = {}
    started = time.perf_counter()
    for first in range(0, count, batch):
        now = ctx.clock.now()
        new = [with_ref(event_mix(i, now, mix), counters) for i in range(first, min(first + batch, count))]
        events = stamp(state.number, state.version, state.last_hash, new, actor="bench", recorded_at=now)
        for event in events:
            apply(state, event)
        with ctx.uow() as uow:
            uow.incidents.append(events, state)
            uow.commit()
    return state.ref, time.perf_counter() - started


def append_one_command_each(app: App, count: int) -> float:
    ctx = app.context
    ref = cases.declare_incident(ctx, declaration(0), "bench").ref
    started = time.perf_counter()
    for i in range(count):
        cases.add_note(ctx, ref, "bench", f"note {i}")
    return time.perf_counter() - started


def best_of(runs: int, command: list[str], env: dict[str, str]) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed: {done.stderr.strip()}")
        best = min(best, elapsed)
    return best


def cli_env(folder: Path, url: str) -> dict[str, str]:
    config = folder / "warroom.toml"
    config.write_text("# bench\n")
    return os.environ | {"WARROOM_DATABASE_URL": url, "WARROOM_CONFIG": str(config), "COLUMNS": "120"}


def timed(label: str, action: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = action()
    print(f"  ({label}: {time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="subprocess runs; the best counts")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument(
        "--commands", type=int, default=2000, help="events of the one-command-each run (budget scaled)"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="warroom-bench-"))
    try:
        print(LINE.format(what="what", budget="budget", measured="measured", ratio="ratio"))

        # cold start on a database with ~200 incidents
        app, url = make_app(folder, "list.db")
        timed(
            "seeding",
            lambda: [
                cases.declare_incident(app.context, declaration(i), "bench") for i in range(args.incidents)
            ],
        )
        dispose(app)
        env = cli_env(folder, url)
        report(
            "warroom --help, cold start (best of N)", 0.300, best_of(args.runs, [str(WARROOM), "--help"], env)
        )
        report(
            f"warroom list, cold start, {args.incidents} incidents",
            0.300,
            best_of(args.runs, [str(WARROOM), "list"], env),
        )
        report(
            f"warroom list --json, cold start, {args.incidents} incidents",
            0.300,
            best_of(args.runs, [str(WARROOM), "list", "--json"], env),
        )
        report(
            "warroom list --status triage (filtered, still the fast path)",
            0.300,
            best_of(args.runs, [str(WARROOM), "list", "--status", "triage"], env),
        )
        report(
            "warroom list --as x (the full Typer CLI, reads by sqlite3)",
            0.300,
            best_of(args.runs, [str(WARROOM), "--as", "x", "list"], env),
        )
        heavy = "import warroom.cli.main, warroom.bootstrap, warroom.services.operations, warroom.cli.render"
        report(
            "  of which: python + imports of that path alone",
            0.300,
            best_of(args.runs, [sys.executable, "-c", heavy], env),
        )
        report(
            "  for scale: python + import sqlalchemy (the cold paths skip it)",
            0.300,
            best_of(args.runs, [sys.executable, "-c", "import sqlalchemy"], env),
        )

        # appending 10,000 events, two ways
        for mix in ("notes", "mixed"):
            app, url = make_app(folder, f"show-{mix}.db")
            ref, elapsed = append_in_batches(app, args.events, mix)
            dispose(app)
            report(f"append {args.events} events ({mix}), store, 100 per transaction", 2.0, elapsed)
            env = cli_env(folder, url)
            report(
                f"warroom show, {args.events} events ({mix})",
                0.300,
                best_of(args.runs, [str(WARROOM), "show", ref], env),
            )
            report(
                f"warroom show --json, {args.events} events ({mix})",
                0.300,
                best_of(args.runs, [str(WARROOM), "show", ref, "--json"], env),
            )
        app, _ = make_app(folder, "commands.db")
        elapsed = append_one_command_each(app, args.commands)
        dispose(app)
        scale = args.commands / args.events
        report(f"append {args.commands} events, one service command each", 2.0 * scale, elapsed)
        print(
            f"  (that is {elapsed / args.commands * 1000:.2f} ms per command; {args.events} would take ~{elapsed / scale:.0f} s)"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
