"""Real processes: ``warroom worker`` and ``warroom serve`` killed with SIGKILL in the
middle of a delivery and started again; two workers on one PostgreSQL database.

These wait on real time (process start-up, a lease of a few seconds); the timing rules
themselves are tested through the clock port elsewhere.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.comms.support import FakeClock, Receiver, free_port
from tests.conftest import dispose
from warroom.bootstrap import App, build
from warroom.domain.comms.reminders import followups_overdue, rotations_due, update_overdue
from warroom.domain.incidents.commands import Declaration
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.severity import Impact, IncidentKind
from warroom.domain.incidents.state import Role
from warroom.domain.shared.timefmt import iso
from warroom.services.comms import outbox
from warroom.services.incidents import commands as cases
from warroom.settings import Settings

pytestmark = pytest.mark.slow

WARROOM = str(Path(sys.executable).with_name("warroom"))


def write_config(folder: Path, url: str, receiver: Receiver, extra: str = "", notify: str = "") -> Path:
    config = folder / "warroom.toml"
    config.write_text(
        f"""
database_url = "{url}"

[roles]
rotation_hours = 1

[notify]
timeout_seconds = 2
lease_seconds = 3
{notify}

[[notify.channels]]
name = "incidents"
type = "slack"
url = "{receiver.url}"

[[notify.routes]]
channels = ["incidents"]

[jobs]
interval_seconds = 0.1
{extra}
"""
    )
    return config


class Processes:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, config: Path, *args: str) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
        env["WARROOM_CONFIG"] = str(config)
        log = open(self.folder / f"process-{len(self.running)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen([WARROOM, *args], cwd=self.folder, env=env, stdout=log, stderr=log)
        log.close()
        self.running.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.folder.glob("process-*.log")))

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def apps() -> Iterator[Callable[..., App]]:
    built: list[App] = []

    def make(settings: Settings, **kwargs: Any) -> App:
        built.append(build(settings, **kwargs))
        return built[-1]

    yield make
    for app in built:
        dispose(app)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    made = Processes(tmp_path)
    yield made
    for process in made.running:
        made.stop(process)


def wait_until(condition: Callable[[], bool], what: str, processes: Processes, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}\n{processes.logs()[-3000:]}")


def declare(app: App, number: int, share: float = 0.12) -> str:
    decl = Declaration(
        title=f"Checkout returns 5xx ({number})",
        kind=IncidentKind.AVAILABILITY,
        services=["checkout"],
        impact=Impact(customer_share=share),
    )
    return cases.declare_incident(app.context, decl, "alice").ref


def settled(app: App, delivered: int) -> bool:
    counts = outbox.outbox_counts(app.context)
    return counts["unrouted"] == 0 and counts["pending"] == 0 and counts["delivered"] >= delivered


@pytest.mark.parametrize(
    ("command", "database"),
    [("worker", "sqlite"), ("serve", "postgres")],
    ids=["worker-sqlite", "serve-postgres"],
)
def test_a_process_killed_mid_delivery_loses_nothing_and_resends_with_the_same_key(
    command: str,
    database: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    receiver: Receiver,
    processes: Processes,
    apps: Callable[..., App],
) -> None:
    url = str(request.getfixturevalue(f"{database}_url"))
    app = apps(Settings(database_url=url))
    refs = [declare(app, n) for n in range(3)]
    in_flight, release = threading.Event(), threading.Event()

    def hold_the_first(_: Any) -> tuple[int, dict[str, str]]:
        if not in_flight.is_set():
            in_flight.set()
            release.wait(10)  # the sender is killed while we hold its request
        return 204, {}

    receiver.respond = hold_the_first
    # One attempt at a time, so the one held is the only one the kill interrupts.
    config = write_config(tmp_path, url, receiver, notify="channel_concurrency = 1")
    args = ["worker"] if command == "worker" else ["serve", "--port", str(free_port())]

    first = processes.start(config, *args)
    wait_until(in_flight.is_set, "the first delivery to arrive", processes)
    first.kill()  # SIGKILL: no cleanup, no report, the lease stays taken
    first.wait()
    release.set()
    [held] = receiver.idempotency_keys()
    assert outbox.outbox_counts(app.context)["delivered"] == 0

    processes.start(config, *args)
    wait_until(lambda: settled(app, delivered=3), "every notification to be delivered", processes)
    keys = receiver.idempotency_keys()
    assert keys.count(held) == 2  # at least once: again after the lease ran out, same key
    assert sorted(set(keys)) == sorted(d.notification.key for d in outbox.list_deliveries(app.context, "all"))
    assert len(keys) == 4
    redelivered = next(
        d for d in outbox.list_deliveries(app.context, "delivered") if d.notification.key == held
    )
    assert redelivered.attempts == 2 and redelivered.notification.incident == refs[0]


def test_two_workers_on_postgresql_send_each_reminder_exactly_once(
    postgres_url: str, tmp_path: Path, receiver: Receiver, processes: Processes, apps: Callable[..., App]
) -> None:
    started = datetime.now(UTC)
    past = FakeClock(started - timedelta(minutes=115))
    settings = Settings(database_url=postgres_url, raw={"roles": {"rotation_hours": 1}})
    app = apps(settings, clock=past)
    refs = []
    for n in range(4):
        ref = declare(app, n)
        cases.assign_role(app.context, ref, "alice", Role.COMMANDER, f"ic-{n}")
        followup = {
            "ref": "A1", "title": "Alert sooner", "owner": "erin", "kind": "detect",
            "due": iso(started - timedelta(minutes=60)),
        }  # fmt: skip
        cases.execute(
            app.context, ref, "alice", lambda s, now, f=followup: [NewEvent("followup_added", f, now)]
        )
        refs.append(ref)
    config = write_config(
        tmp_path,
        postgres_url,
        receiver,
        "reminders_seconds = 0.1\nfollowups_minutes = 0.002\nlease_seconds = 30",
    )
    workers = [processes.start(config, "worker"), processes.start(config, "worker")]

    def reminder_keys() -> list[str]:
        return [k for k in receiver.idempotency_keys() if "_overdue." in k or ".rotation_due." in k]

    wait_until(lambda: len(reminder_keys()) >= 12, "twelve reminders", processes)
    time.sleep(1.5)  # both workers keep looking, many rounds each: nothing more may come
    for worker in workers:
        processes.stop(worker)

    now = datetime.now(UTC)
    expected = set()
    for ref in refs:
        state = cases.get_incident(app.context, ref)
        overdue = update_overdue(state, now=now, policy=app.context.policy)
        assert overdue is not None
        expected |= {overdue.key}
        expected |= {r.key for r in rotations_due(state, now=now, policy=app.context.policy)}
        expected |= {r.key for r in followups_overdue(state, now=now, every=timedelta(hours=24))}
    keys = receiver.idempotency_keys()
    assert sorted(reminder_keys()) == sorted(expected) and len(expected) == 12
    assert len(keys) == len(set(keys)) == 12 + 4 * 2  # and the declarations and the role assignments
    assert settled(app, delivered=20)
    logs = processes.logs()
    assert logs.count("warroom worker ") >= 2 and "Traceback" not in logs
