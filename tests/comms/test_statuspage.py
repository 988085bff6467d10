"""The status page's rules: stages, component states, maintenance windows, 90-day history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warroom.domain.comms.statuspage import (
    Maintenance,
    ManualState,
    build_page,
    checked_state,
    incident_effect,
    plan_maintenance,
)
from warroom.domain.comms.statuspage_history import (
    DayBar,
    component_history,
    floored,
    past_incidents,
    uptime_percent,
)
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents.catalog import StatusEntry
from warroom.domain.incidents.chain import GENESIS, stamp
from warroom.domain.incidents.commands import Declaration
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.fold import apply
from warroom.domain.incidents.policy import ResponsePolicy
from warroom.domain.incidents.severity import Impact, IncidentKind, Severity
from warroom.domain.incidents.stages import stage_of
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.errors import ValidationError

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
POLICY = ResponsePolicy()
ENTRIES = [("checkout", StatusEntry("Checkout", "Shopping")), ("search", StatusEntry("Search", "Browsing"))]


def run(state: IncidentState, new: list[NewEvent], actor: str = "alice") -> IncidentState:
    for event in stamp(
        state.number, state.version, state.last_hash, new, actor=actor, recorded_at=new[-1].occurred_at
    ):
        apply(state, event)
    return state


def declared(
    share: float = 0.4, *, actor: str = "pager", services: tuple[str, ...] = ("checkout",)
) -> IncidentState:
    decl = Declaration(
        title="db OOM by zoe",
        kind=IncidentKind.AVAILABILITY,
        services=list(services),
        impact=Impact(customer_share=share),
    )
    event = rules.declare(decl, now=T0, policy=POLICY)
    return apply(None, stamp(1, 0, GENESIS, [event], actor=actor, recorded_at=T0)[0])


def public(state: IncidentState, text: str, at: datetime, stage: str | None = None) -> IncidentState:
    return run(state, rules.post_update(state, text, "public", now=at, policy=POLICY, stage=stage))


def test_the_stage_follows_the_lifecycle() -> None:
    state = declared()
    assert stage_of(state) == "investigating"
    run(state, rules.record_fact(state, "primary restarted", "pg logs", now=T0, policy=POLICY))
    assert stage_of(state) == "identified"
    run(state, rules.mark_mitigated(state, "error ratio back", now=T0 + timedelta(minutes=5), policy=POLICY))
    assert stage_of(state) == "monitoring"


def test_a_public_update_carries_the_derived_stage_or_the_one_named() -> None:
    state = public(declared(), "Looking into checkout errors.", T0)
    assert state.updates[-1].stage == "investigating"
    public(state, "We found it.", T0 + timedelta(minutes=1), stage="Identified")
    assert state.updates[-1].stage == "identified"
    with pytest.raises(ValidationError) as refused:
        public(state, "x", T0, stage="fixed-ish")
    assert refused.value.field == "stage"
    internal = run(state, rules.post_update(state, "internal", "internal", now=T0, policy=POLICY))
    assert internal.updates[-1].stage is None


def test_the_last_word_on_resolve_is_resolved() -> None:
    state = public(declared(), "Looking.", T0)
    new = rules.resolve(
        state,
        "ok",
        impact_stopped=True,
        risk_controlled=True,
        data_verified=False,
        now=T0 + timedelta(hours=1),
        policy=POLICY,
        final_update="All good again.",
    )
    run(state, new)
    assert (state.updates[-1].text, state.updates[-1].stage) == ("All good again.", "resolved")


@pytest.mark.parametrize(
    ("share", "severity", "expected"),
    [
        (0.4, Severity.SEV1, "major_outage"),
        (0.06, Severity.SEV2, "partial_outage"),
        (0.01, Severity.SEV3, "degraded_performance"),
    ],
)
def test_a_public_incident_sets_its_components_state_by_severity(
    share: float, severity: Severity, expected: str
) -> None:
    state = public(declared(share), "Looking.", T0)
    assert state.severity is severity
    assert incident_effect(state) == expected
    page = build_page(ENTRIES, [state], {}, [], T0)
    assert [(c.name, c.state) for c in page.components] == [("Checkout", expected), ("Search", "operational")]


def test_an_open_public_incident_on_no_listed_component_still_sets_the_headline() -> None:
    state = public(declared(0.06, services=("billing-worker",)), "Invoices are late.", T0)
    page = build_page(ENTRIES, [state], {}, [], T0)
    assert [c.state for c in page.components] == ["operational", "operational"]
    assert page.overall == "partial_outage"  # never "all systems operational" above it
    assert [i.components for i in page.incidents] == [()]


def test_an_incident_not_published_or_from_the_demo_leaves_the_page_alone() -> None:
    quiet = declared()
    demo = public(declared(actor="warroom-demo"), "Demo text.", T0)
    page = build_page(ENTRIES, [quiet, demo], {}, [], T0)
    assert page.overall == "operational" and page.incidents == ()


def test_a_hand_set_state_wins_and_is_kept_apart_from_the_automatic_one() -> None:
    state = public(declared(), "Looking.", T0)
    held = ManualState("degraded_performance", "recovering slowly", "carl", T0)
    component = build_page(ENTRIES, [state], {"checkout": held}, [], T0).components[0]
    assert (component.state, component.automatic, component.manual) == (
        "degraded_performance",
        "major_outage",
        held,
    )


def test_states_are_read_in_plain_words() -> None:
    assert checked_state("Partial outage") == "partial_outage"
    assert checked_state("major-outage") == "major_outage"
    with pytest.raises(ValidationError):
        checked_state("on fire")


def window(start: timedelta, length: timedelta, **kw: object) -> Maintenance:
    return Maintenance(1, ("search",), T0 + start, T0 + start + length, "Index rebuild.", "carl", T0, **kw)  # type: ignore[arg-type]


def test_maintenance_is_upcoming_then_in_progress_then_over() -> None:
    w = window(timedelta(hours=1), timedelta(hours=2))
    assert [w.phase(T0), w.phase(T0 + timedelta(hours=2)), w.phase(T0 + timedelta(hours=4))] == [
        "upcoming",
        "in_progress",
        "completed",
    ]
    assert window(timedelta(0), timedelta(hours=1), cancelled_at=T0).phase(T0) == "cancelled"
    page = build_page(ENTRIES, [], {}, [w], T0 + timedelta(hours=2))
    assert page.components[1].state == "under_maintenance"
    assert [m.phase for m in page.maintenance] == ["in_progress"]
    assert build_page(ENTRIES, [], {}, [w], T0).components[1].state == "operational"


@pytest.mark.parametrize(
    ("services", "start", "end", "text", "field"),
    [
        ([], 1, 2, "x", "services"),
        (["ledger-db"], 1, 2, "x", "services"),
        (["search"], 2, 1, "x", "ends_at"),
        (["search"], -3, -2, "x", "ends_at"),
        (["search"], 1, 24 * 15, "x", "ends_at"),
        (["search"], 1, 2, "   ", "text"),
        (["search"], 1, 2, "x" * 2001, "text"),
    ],
)
def test_a_bad_window_is_refused_naming_the_field(
    services: list[str], start: int, end: int, text: str, field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        plan_maintenance(
            services,
            T0 + timedelta(hours=start),
            T0 + timedelta(hours=end),
            text,
            components={"checkout", "search"},
            now=T0,
        )
    assert refused.value.field == field


def test_history_draws_a_bar_per_day_and_weighs_uptime() -> None:
    state = public(declared(0.4), "Checkout is down.", T0)  # SEV1 from 10:00
    run(state, rules.mark_mitigated(state, "ok", now=T0 + timedelta(minutes=60), policy=POLICY))
    now = T0 + timedelta(days=2)
    bars = component_history(ENTRIES, [state], [window(timedelta(days=1), timedelta(hours=1))], now)
    checkout, search = bars
    assert len(checkout.days) == 90 and checkout.days[-1].day == now.date()
    day = checkout.days[-3]
    assert (day.day, day.state, day.down_minutes) == (T0.date(), "major_outage", 60.0)
    assert checkout.uptime == pytest.approx(1 - 60 / (90 * 24 * 60))
    assert search.days[-2].state == "under_maintenance" and search.uptime == 1.0
    past = past_incidents(ENTRIES, [state], now)
    assert [(d.day, [i.id for i in d.incidents]) for d in past] == [(T0.date(), ["INC-1"])]
    assert past[0].incidents[0].updates[0].stage == "investigating"


def test_a_fresh_five_minute_outage_shows_on_its_day_and_in_the_window() -> None:
    state = public(declared(0.4), "Checkout is down.", T0)  # SEV1 from 10:00, still open
    now = T0 + timedelta(minutes=5)
    checkout, search = component_history(ENTRIES, [state], [], now)
    today = checkout.days[-1]
    assert (today.state, today.down_minutes) == ("major_outage", pytest.approx(5.0))
    assert today.uptime_text == "99.65%"  # 5 of 1440 minutes: 99.6527...%, rounded down
    assert checkout.uptime_text == "99.99%"  # 5 of 129,600 minutes: 99.9961...%, not 100.00%
    assert search.uptime_text == "100.00%" and not search.down


def test_seconds_of_outage_are_kept_and_never_read_as_full_uptime() -> None:
    state = public(declared(0.4), "Checkout is down.", T0)
    checkout, _ = component_history(ENTRIES, [state], [], T0 + timedelta(seconds=2))
    assert checkout.days[-1].down_minutes == pytest.approx(2 / 60)  # not rounded away
    assert checkout.days[-1].uptime_text == "99.99%" and checkout.uptime_text == "99.99%"
    assert floored(checkout.uptime, 6, down=checkout.down) == 0.999999


@pytest.mark.parametrize(
    ("share", "down", "shown"),
    [
        (1.0, False, "100.00%"),
        (1.0, True, "99.99%"),
        (0.9965, True, "99.65%"),  # exact in decimal, 9964.999... in binary: still 99.65
        (0.99999, True, "99.99%"),
        (0.123456, True, "12.34%"),
        (0.0, True, "0.00%"),
        (-0.5, True, "0.00%"),
    ],
)
def test_uptime_is_rounded_down(share: float, down: bool, shown: str) -> None:
    assert uptime_percent(share, down=down) == shown


def test_overlapping_outages_do_not_take_more_than_the_day() -> None:
    first = public(declared(0.4), "Checkout is down.", T0)
    second = public(declared(0.4), "Checkout is still down.", T0)
    now = T0 + timedelta(days=1)
    checkout, _ = component_history(ENTRIES, [first, second], [], now)
    assert checkout.days[-2].down_minutes == 14 * 60  # 10:00 to midnight once, not twice
    assert DayBar(T0.date(), "major_outage", 24 * 60).uptime_text == "0.00%"
