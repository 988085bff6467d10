"""1,000 due outbox deliveries over three ``warroom worker`` processes on one PostgreSQL
database: the receiver counts each once; a worker killed with SIGKILL in the middle of a
send has that delivery taken over when its lease runs out, never lost."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.harness import WARROOM, Procs, wait_until, warroom_env, write_config
from tests.comms.support import Receiver, http_receiver
from warroom.bootstrap import App, build
from warroom.domain.comms.notifications import Notification
from warroom.services.comms import outbox
from warroom.services.ports.comms import OutboxMessage
from warroom.settings import Settings

JOBS = 1000
CHANNELS = 4  # the deliveries of one channel share its health row: four spread the load


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with http_receiver() as state:
        yield state


def enqueue(app: App, count: int) -> list[str]:
    """``count`` notifications, due now, in one transaction."""
    now = datetime.now(UTC)
    keys = [f"cluster-job-{n:04d}" for n in range(count)]
    with app.context.uow() as uow:
        for n, key in enumerate(keys):
            note = Notification(
                key=key, kind="status_update_posted", incident=None, severity=None, services=(f"svc{n % CHANNELS}",),
                team=None,
                title=f"Job {key}", text="exactly once", url=None, fields=(), occurred_at=now,
            )  # fmt: skip
            assert uow.outbox.add(OutboxMessage(note), now)
        uow.commit()
    return keys


def test_three_workers_deliver_each_of_1000_jobs_once_and_take_over_a_killed_ones(
    postgres_url: str, tmp_path: Path, receiver: Receiver, procs: Procs
) -> None:
    app = build(Settings(database_url=postgres_url))
    try:
        keys = enqueue(app, JOBS)
        held, release = threading.Event(), threading.Event()
        before_kill: list[str] = []

        def hold_until_the_kill(request: Any) -> tuple[int, dict[str, str]]:
            if not release.is_set():
                before_kill.append(request.key)
                held.set()
                release.wait(20)  # the sender is killed while we hold its request
            return 204, {}

        receiver.respond = hold_until_the_kill
        config = write_config(tmp_path, postgres_url, "interval_seconds = 0.1")
        channels = "".join(
            f'[[notify.channels]]\nname = "ops{c}"\ntype = "slack"\nurl = "{receiver.url}"\n\n'
            f'[[notify.routes]]\nchannels = ["ops{c}"]\nservices = ["svc{c}"]\n\n'
            for c in range(CHANNELS)
        )
        config.write_text(
            config.read_text()
            + "\n[notify]\ntimeout_seconds = 3\nlease_seconds = 4\nchannel_concurrency = 3\n\n"
            + channels
        )
        env = warroom_env(config)
        doomed = procs.start("worker-doomed", [WARROOM, "worker"], env=env)
        wait_until(held.is_set, "the first delivery to reach the receiver", procs)
        workers = [procs.start(f"worker-{n}", [WARROOM, "worker"], env=env) for n in range(3)]
        doomed.kill9()  # mid-send: no report, its leases stay taken until they run out
        release.set()

        def all_delivered() -> bool:
            counts = outbox.outbox_counts(app.context)
            return counts["unrouted"] == 0 and counts["pending"] == 0 and counts["delivered"] >= JOBS

        wait_until(all_delivered, "every delivery", procs, timeout=120)
        for worker in workers:
            worker.stop()
        received = Counter(receiver.idempotency_keys())
        assert set(received) == set(keys)
        delivered = outbox.list_deliveries(app.context, "delivered", limit=JOBS + 10)
        assert len(delivered) == JOBS
        retried = {d.notification.key for d in delivered if d.attempts > 1}
        # Once each, but for what the killed worker was sending: taken over after its lease
        # and sent again with the same key (at least once; the receiver drops the copy).
        # Every copy is such a retry: what the killed worker held, or (on a loaded machine)
        # an attempt that outlived notify.timeout_seconds after reaching the receiver.
        twice = {key for key, n in received.items() if n > 1}
        assert twice <= retried and before_kill[0] in twice
        assert max(received.values()) == 2 and max(d.attempts for d in delivered) <= 3
        # Spread over the three workers.
        did = [sum(int(n) for n in re.findall(r"deliver_notifications did (\d+)", w.text())) for w in workers]
        assert sum(1 for n in did if n > 0) >= 2, did
        assert all("Traceback" not in w.text() for w in workers)
    finally:
        engine = app.engine
        if engine is not None:
            engine.dispose()  # type: ignore[attr-defined]
