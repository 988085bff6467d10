"""Two OS processes hand off the commander role at the same moment: one wins, one conflicts.

Both load INC-1 at the same version, meet at a barrier (inside the clock, which the use
case reads between loading and appending), then append. Exactly one append may succeed;
the other must get ``ConcurrencyConflict`` with a clear message and write nothing. Runs on
SQLite (file locking) and on PostgreSQL (row locks under READ COMMITTED).
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable
from typing import Any

from tests.incidents.builders import declaration
from tests.incidents.workers import hand_off_commander
from warroom.domain.incidents.chain import verify
from warroom.domain.incidents.state import Role
from warroom.services.incidents import commands as cases
from warroom.services.ports.incidents import IncidentFilter


def race(url: str, people: list[str]) -> dict[str, tuple[str, str]]:
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(len(people))
    results = spawn.Queue()
    workers = [spawn.Process(target=hand_off_commander, args=(url, p, barrier, results)) for p in people]
    for worker in workers:
        worker.start()
    outcomes: dict[str, tuple[str, str]] = {}
    try:
        for _ in people:
            person, outcome, message = results.get(timeout=90)
            outcomes[person] = (outcome, message)
    except queue.Empty:
        raise AssertionError(f"a worker did not report; got {outcomes}") from None
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
    assert all(w.exitcode == 0 for w in workers), [w.exitcode for w in workers]
    return outcomes


def test_two_processes_handing_off_the_commander_at_once_one_wins_one_conflicts(
    database_url: str, build_app: Callable[..., Any]
) -> None:
    ctx = build_app(database_url).context
    ref = cases.declare_incident(ctx, declaration(), "alice").ref
    cases.assign_role(ctx, ref, "alice", Role.COMMANDER, "alice")

    outcomes = race(database_url, ["bob", "carol"])

    assert sorted(o for o, _ in outcomes.values()) == ["conflict", "won"], outcomes
    (winner,) = [p for p, (o, _) in outcomes.items() if o == "won"]
    (loser,) = [p for p, (o, _) in outcomes.items() if o == "conflict"]
    assert outcomes[loser][1] == (
        "INC-1 changed while you were working on it (now at event #3, you had #2); look again and retry"
    )
    events = cases.timeline(ctx, ref)
    assert [e.kind for e in events] == ["incident_declared", "role_assigned", "role_handed_off"]
    assert events[-1].payload["to"] == winner and events[-1].actor == winner
    assert verify(events) is None
    state = cases.get_incident(ctx, ref)
    assert state.roles["commander"].person == winner
    assert [t.person for t in state.role_history] == ["alice", winner]
    (row,) = cases.list_incidents(ctx, IncidentFilter())
    assert (row.commander, row.version) == (winner, 3)

    # the loser looks again and retries on the fresh state: nothing was lost on either side
    cases.hand_off_role(ctx, ref, loser, Role.COMMANDER, loser, "retrying after the conflict")
    events = cases.timeline(ctx, ref)
    assert [e.payload.get("to") for e in events[2:]] == [winner, loser]
    assert verify(events) is None
    assert cases.get_incident(ctx, ref).version == 4
