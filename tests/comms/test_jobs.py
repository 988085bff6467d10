"""The job runner on SQLite and PostgreSQL, driven tick by tick through a fake clock:
reminders on the cadence, once per period, across runners; leases; failing jobs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.comms.support import T0, FakeClock, Receiver
from tests.comms.test_outbox import declare
from warroom.bootstrap import build_jobs, build_notify, build_runner
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.state import Role
from warroom.domain.shared.timefmt import iso
from warroom.integrations.notify_config import make_notifier
from warroom.services.comms import jobs, outbox
from warroom.services.comms.jobs import Job, JobRunner
from warroom.services.incidents import commands as cases
from warroom.services.shared.context import Context
from warroom.settings import Settings


def settings(url: str, receiver: Receiver, **jobs_table: Any) -> Settings:
    raw = {
        "notify": {
            "channels": [{"name": "incidents", "type": "slack", "url": receiver.url}],
            "routes": [{"channels": ["incidents"]}],
        },
        "jobs": {"interval_seconds": 1, "reminders_seconds": 30, "followups_minutes": 10, **jobs_table},
    }
    return Settings(database_url=url, raw=raw)


@pytest.fixture
def make_runner(
    database_url: str, build_app: Callable[..., Any], clock: FakeClock, receiver: Receiver
) -> Iterator[Callable[..., JobRunner]]:
    runners: list[JobRunner] = []

    def make(name: str = "worker-1", **jobs_table: Any) -> JobRunner:
        app = build_app(database_url, clock=clock)
        app = dataclasses.replace(app, settings=settings(database_url, receiver, **jobs_table))
        runner = build_runner(app, worker=name)
        runners.append(runner)
        return runner

    yield make
    for runner in runners:
        runner.close()


def kinds(receiver: Receiver) -> list[str]:
    return [r.json()["text"].split("\n")[0] for r in receiver.requests]


def overdue_keys(receiver: Receiver) -> list[str]:
    return [k for k in receiver.idempotency_keys() if ".update_overdue." in k]


def test_the_runner_delivers_and_reminds_on_the_cadence_until_an_update_is_posted(
    make_runner: Callable[..., JobRunner], clock: FakeClock, receiver: Receiver
) -> None:
    runner = make_runner()
    ctx = runner.ctx
    ref = declare(ctx)  # SEV2: updates every 30 minutes, first due 10:30
    cases.assign_role(ctx, ref, "alice", Role.COMMS, "lee")
    assert runner.tick()["deliver_notifications"] == 2  # the declaration and the role
    for _ in range(29):
        clock.advance(minutes=1)
        runner.tick()
    assert overdue_keys(receiver) == []

    clock.advance(minutes=1, seconds=1)  # 10:30:01
    runner.tick()
    assert overdue_keys(receiver) == ["INC-1.update_overdue.20261126T103000Z.1"]
    [reminder] = [r for r in receiver.requests if r.key == overdue_keys(receiver)[0]]
    assert "*Remind*\nlee (comms)" in [f["text"] for f in reminder.json()["blocks"][2]["fields"]]
    for _ in range(59):  # the runner looks every 30 s; one reminder per period
        clock.advance(seconds=30)
        runner.tick()
    assert len(overdue_keys(receiver)) == 1
    clock.advance(seconds=30)  # 11:00:01: the second period
    runner.tick()
    assert overdue_keys(receiver)[-1] == "INC-1.update_overdue.20261126T103000Z.2"

    cases.post_update(ctx, ref, "lee", "Rolling back.", "internal")  # next due 11:30:01
    clock.advance(minutes=29)
    runner.tick()
    assert len(overdue_keys(receiver)) == 2
    clock.advance(minutes=2)
    runner.tick()
    assert overdue_keys(receiver)[-1] == "INC-1.update_overdue.20261126T113001Z.1"


def test_rotation_reminders_come_after_the_rotation_time_once(
    make_runner: Callable[..., JobRunner], clock: FakeClock, receiver: Receiver
) -> None:
    runner = make_runner()
    ref = declare(runner.ctx)
    cases.assign_role(runner.ctx, ref, "alice", Role.COMMANDER, "dana")
    rotation = [k for k in receiver.idempotency_keys() if ".rotation_due." in k]
    for _ in range(4 * 5):  # five hours, a tick every 15 minutes
        clock.advance(minutes=15)
        runner.tick()
        rotation = [k for k in receiver.idempotency_keys() if ".rotation_due." in k]
        if clock.now() < T0 + timedelta(hours=4):
            assert rotation == []
    assert rotation == ["INC-1.rotation_due.commander.20261126T100000Z.1"]


def test_two_runners_on_one_database_send_each_reminder_once(
    make_runner: Callable[..., JobRunner], clock: FakeClock, receiver: Receiver
) -> None:
    first, second = make_runner("worker-1"), make_runner("worker-2")
    declare(first.ctx)
    clock.advance(minutes=31)
    for _ in range(3):
        first.tick()
        second.tick()
        clock.advance(seconds=31)
    # and even with the job lease out of the way, the period's key is written once
    assert jobs.send_reminders(second.ctx, clock.now()) == 0
    first.tick()
    assert overdue_keys(receiver) == ["INC-1.update_overdue.20261126T103000Z.1"]


def test_an_exclusive_job_runs_on_one_runner_at_a_time_and_a_dead_holder_times_out(
    database_url: str, build_app: Callable[..., Any], clock: FakeClock
) -> None:
    ctx: Context = build_app(database_url, clock=clock).context
    runs: list[str] = []

    def job(name: str) -> Job:
        return Job("remind", timedelta(seconds=30), lambda now: runs.append(name) or 1)

    a = JobRunner(ctx, [job("a")], worker="a", lease=timedelta(minutes=5))
    b = JobRunner(ctx, [job("b")], worker="b", lease=timedelta(minutes=5))
    with ctx.uow() as uow:  # a third worker leases it and dies
        assert uow.jobs.claim("remind", clock.now(), clock.now() + timedelta(minutes=5), "dead")
        uow.commit()
    assert a.tick() == {} and b.tick() == {}
    clock.advance(minutes=5)
    assert a.tick() == {"remind": 1}
    assert b.tick() == {}  # next run in 30 s
    clock.advance(seconds=30)
    assert b.tick() == {"remind": 1}
    assert runs == ["a", "b"]


def test_a_failing_job_does_not_stop_the_others_and_runs_again_next_period(
    database_url: str, build_app: Callable[..., Any], clock: FakeClock
) -> None:
    ctx: Context = build_app(database_url, clock=clock).context
    attempts: list[datetime] = []

    def broken(now: datetime) -> int:
        attempts.append(now)
        raise RuntimeError("boom")

    runner = JobRunner(
        ctx,
        [Job("broken", timedelta(minutes=1), broken), Job("fine", timedelta(minutes=1), lambda now: 7)],
        worker="w",
    )
    assert runner.tick() == {"fine": 7}
    assert runner.tick() == {}
    clock.advance(minutes=1)
    assert runner.tick() == {"fine": 7}
    assert attempts == [T0, T0 + timedelta(minutes=1)]


def test_overdue_followups_are_reminded_after_close_until_done(
    make_runner: Callable[..., JobRunner], clock: FakeClock, receiver: Receiver
) -> None:
    runner = make_runner()
    ctx = runner.ctx
    ref = declare(ctx, share=0.01)  # SEV3
    due = T0 + timedelta(days=2)
    payload = {
        "ref": "A1",
        "title": "Alert on the 5xx ratio",
        "owner": "erin",
        "due": iso(due),
        "kind": "detect",
    }
    cases.execute(ctx, ref, "alice", lambda s, now: [NewEvent("followup_added", payload, now)])
    cases.resolve(ctx, ref, "alice", "rolled back", impact_stopped=True, risk_controlled=True)
    cases.close(ctx, ref, "alice")
    followups: list[str] = []
    for _ in range(15):  # 90 hours, every 6 hours
        clock.advance(hours=6)
        runner.tick()
        followups = [k for k in receiver.idempotency_keys() if ".followup_overdue." in k]
    assert followups == [
        "INC-1.followup_overdue.A1.20261128T100000Z.1",
        "INC-1.followup_overdue.A1.20261128T100000Z.2",
    ]
    done = {"ref": "A1", "status": "done"}
    cases.execute(ctx, ref, "erin", lambda s, now: [NewEvent("followup_updated", done, now)])
    clock.advance(days=3)
    runner.tick()
    assert len([k for k in receiver.idempotency_keys() if ".followup_overdue." in k]) == 2


def test_the_job_registry_holds_delivery_and_both_reminders(
    database_url: str, build_app: Callable[..., Any], receiver: Receiver
) -> None:
    app = build_app(database_url)
    app = dataclasses.replace(app, settings=settings(database_url, receiver))
    notify = build_notify(app.settings)
    notifier, close = make_notifier(notify)
    try:
        names = [(job.name, job.exclusive) for job in build_jobs(app, notify, notifier)]
    finally:
        close()
    assert names == [
        ("remind", True),
        ("remind_followups", True),
        ("check_mitigations", True),
        ("escalate_pages", False),
        ("xray_sampling", True),
        ("deliver_notifications", False),
    ]
    assert outbox.outbox_counts(app.context)["unrouted"] == 0
