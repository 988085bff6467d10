"""Which reminders are due when: cadence, rotation and follow-ups, all on given times."""

from __future__ import annotations

from datetime import timedelta

from tests.comms.builders import POLICY, Room, declaration
from tests.comms.support import T0
from warroom.domain.comms.announcements import reminder_notification
from warroom.domain.comms.reminders import followups_overdue, reminders_due, rotations_due, update_overdue
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents.severity import Severity
from warroom.domain.incidents.state import Role


def keys_between(room: Room, minutes: range) -> list[str]:
    """The update-overdue keys seen when looking once a minute."""
    seen: list[str] = []
    for minute in minutes:
        found = update_overdue(room.state, now=T0 + timedelta(minutes=minute, seconds=1), policy=POLICY)
        if found is not None and found.key not in seen:
            seen.append(found.key)
    return seen


def test_no_reminder_before_the_first_update_is_due() -> None:
    room = Room()  # SEV2: an update every 30 minutes
    assert room.state.severity is Severity.SEV2
    assert update_overdue(room.state, now=T0 + timedelta(minutes=30), policy=POLICY) is None


def test_an_overdue_update_is_reminded_once_per_cadence_until_one_is_posted() -> None:
    room = Room()
    room.assign(Role.COMMS, "lee")
    assert keys_between(room, range(0, 95)) == [
        "INC-1.update_overdue.20261126T103000Z.1",
        "INC-1.update_overdue.20261126T103000Z.2",
        "INC-1.update_overdue.20261126T103000Z.3",
    ]
    room.later(minutes=95)
    room.update()  # 11:35: the next is due at 12:05
    assert update_overdue(room.state, now=room.later(minutes=29), policy=POLICY) is None
    due = update_overdue(room.state, now=room.later(minutes=2), policy=POLICY)
    assert due is not None and due.key == "INC-1.update_overdue.20261126T120500Z.1"


def test_the_same_period_always_gives_the_same_key() -> None:
    room = Room()
    first = update_overdue(room.state, now=T0 + timedelta(minutes=31), policy=POLICY)
    again = update_overdue(room.state, now=T0 + timedelta(minutes=59), policy=POLICY)
    assert first is not None and again is not None
    assert first.key == again.key and first.period == 1


def test_comms_is_reminded_and_the_commander_too_on_sev1() -> None:
    room = Room(declaration(share=0.3))
    room.assign(Role.COMMANDER, "dana")
    room.assign(Role.COMMS, "lee")
    due = update_overdue(room.state, now=T0 + timedelta(minutes=16), policy=POLICY)
    assert due is not None and due.notify == ("lee (comms)", "dana (commander)")
    assert ("Remind", "lee (comms), dana (commander)") in due.fields

    sev2 = Room()
    sev2.assign(Role.COMMANDER, "dana")
    sev2.assign(Role.COMMS, "lee")
    due = update_overdue(sev2.state, now=T0 + timedelta(minutes=31), policy=POLICY)
    assert due is not None and due.notify == ("lee (comms)",)


def test_without_a_comms_lead_the_commander_is_reminded() -> None:
    room = Room()
    room.assign(Role.COMMANDER, "dana")
    due = update_overdue(room.state, now=T0 + timedelta(minutes=31), policy=POLICY)
    assert due is not None and due.notify == ("dana (commander)",)


def test_the_reminder_carries_the_prefilled_draft() -> None:
    room = Room()
    due = update_overdue(room.state, now=T0 + timedelta(minutes=31), policy=POLICY)
    assert due is not None
    assert "warroom update INC-1" in due.text
    assert "Impact: 12% of users or requests affected." in due.text
    assert "Mitigation: none applied yet" in due.text


def test_sev4_has_no_cadence() -> None:
    room = Room()
    room.severity(Severity.SEV4)
    assert update_overdue(room.state, now=T0 + timedelta(days=1), policy=POLICY) is None


def test_a_resolved_incident_gets_no_update_or_rotation_reminders() -> None:
    room = Room()
    room.assign(Role.COMMANDER, "dana")
    room.do(
        lambda s, now: rules.resolve(
            s, "rolled back", impact_stopped=True, risk_controlled=True, data_verified=False,
            now=now, policy=POLICY,
        )
    )  # fmt: skip
    later = T0 + timedelta(hours=9)
    assert update_overdue(room.state, now=later, policy=POLICY) is None
    assert rotations_due(room.state, now=later, policy=POLICY) == []


def test_rotation_is_due_once_per_rotation_period_held() -> None:
    room = Room()
    room.assign(Role.COMMANDER, "dana")
    assert rotations_due(room.state, now=T0 + timedelta(hours=3, minutes=59), policy=POLICY) == []
    at_4h = rotations_due(room.state, now=T0 + timedelta(hours=4), policy=POLICY)
    at_7h = rotations_due(room.state, now=T0 + timedelta(hours=7, minutes=59), policy=POLICY)
    at_8h = rotations_due(room.state, now=T0 + timedelta(hours=8, minutes=1), policy=POLICY)
    assert (
        [r.key for r in at_4h]
        == [r.key for r in at_7h]
        == ["INC-1.rotation_due.commander.20261126T100000Z.1"]
    )
    assert [r.key for r in at_8h] == ["INC-1.rotation_due.commander.20261126T100000Z.2"]
    assert at_4h[0].notify == ("dana (commander)",)


def test_a_handoff_starts_the_rotation_clock_again() -> None:
    room = Room()
    room.assign(Role.COMMANDER, "dana")
    room.later(hours=3)
    room.do(lambda s, now: rules.hand_off_role(s, Role.COMMANDER, "bob", "rest", now=now, policy=POLICY))
    assert rotations_due(room.state, now=T0 + timedelta(hours=5), policy=POLICY) == []
    [due] = rotations_due(room.state, now=T0 + timedelta(hours=7), policy=POLICY)
    assert due.notify == ("bob (commander)",)


def test_followups_are_reminded_daily_after_their_due_date_until_done() -> None:
    room = Room()
    room.followup("Alert on checkout 5xx ratio", "erin", T0 + timedelta(days=7))
    every = timedelta(hours=24)
    assert followups_overdue(room.state, now=T0 + timedelta(days=7), every=every) == []
    day1 = followups_overdue(room.state, now=T0 + timedelta(days=7, hours=1), every=every)
    day2 = followups_overdue(room.state, now=T0 + timedelta(days=8, hours=1), every=every)
    assert [r.key for r in day1] == ["INC-1.followup_overdue.A1.20261203T100000Z.1"]
    assert [r.key for r in day2] == ["INC-1.followup_overdue.A1.20261203T100000Z.2"]
    assert day1[0].notify == ("erin",)
    room.followup_done("A1")
    assert followups_overdue(room.state, now=T0 + timedelta(days=9), every=every) == []


def test_reminders_become_valid_notifications() -> None:
    room = Room(declaration(share=0.3))
    room.assign(Role.COMMANDER, "dana")
    room.followup("Fix it", "erin", T0 + timedelta(hours=1))
    found = reminders_due(
        room.state, now=T0 + timedelta(hours=5), policy=POLICY, followup_every=timedelta(days=1)
    )
    assert sorted(r.kind for r in found) == ["followup_overdue", "rotation_due", "update_overdue"]
    for reminder in found:
        n = reminder_notification(reminder, room.state, team="storefront")
        assert n.key == reminder.key and n.kind == reminder.kind
        assert n.headline == "[SEV1] INC-1: Checkout returns 5xx"
