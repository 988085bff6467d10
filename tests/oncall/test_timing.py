"""On the real clock, with the real job runner: a due escalation step fires within 5 s of
its due time (the runner wakes every second, as ``jobs.interval_seconds = 1`` sets it)."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.comms.support import Receiver
from tests.oncall.world import make_world, settings_for
from warroom.bootstrap import build_runner
from warroom.services.incidents import commands as cases


def test_a_due_step_fires_within_five_seconds_of_its_due_time(
    sqlite_url: str, build_app: Callable[..., Any], receiver: Receiver
) -> None:
    world = make_world(build_app(sqlite_url), receiver, None)
    state = world.declare()
    page = world.page_incident(state)
    world.escalate()  # step 1 now; step 2 would be due in 5 minutes
    due = datetime.now(UTC) + timedelta(seconds=1)
    with world.ctx.uow() as uow:
        current = uow.oncall.page(page.id)
        uow.oncall.save_page(dataclasses.replace(current, due_at=due))
        uow.commit()
    raw = settings_for(sqlite_url, None).raw | {"jobs": {"interval_seconds": 1, "oncall_seconds": 1}}
    app = dataclasses.replace(world.app, settings=dataclasses.replace(world.app.settings, raw=raw))
    runner = build_runner(app, worker="timing")
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop, 1.0), daemon=True)
    thread.start()
    try:
        fired = None
        deadline = time.monotonic() + 15
        while fired is None and time.monotonic() < deadline:
            steps = [e for e in cases.timeline(world.ctx, state.number) if e.kind == "page_escalated"]
            fired = steps[1] if len(steps) > 1 else None
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(10)
        runner.close()
    assert fired is not None, "step 2 never fired"
    assert timedelta(0) <= fired.occurred_at - due <= timedelta(seconds=5), fired.occurred_at - due
