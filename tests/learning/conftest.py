"""Fixtures for learning: an app on a fake clock, a scripted incident with exact times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.incidents.fakes import FakeClock
from warroom.services import operations as ops
from warroom.services.shared.context import Context

DAY = datetime(2026, 11, 26, tzinfo=UTC)


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return DAY.replace(hour=hour, minute=minute, second=second)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at(10, 0))


@pytest.fixture
def app(build_app: Callable[..., Any], sqlite_url: str, clock: FakeClock) -> Any:
    return build_app(sqlite_url, clock=clock)


@pytest.fixture
def any_app(build_app: Callable[..., Any], database_url: str, clock: FakeClock) -> Any:
    """The app on SQLite and on PostgreSQL (the test runs twice)."""
    return build_app(database_url, clock=clock)


def scripted_incident(ctx: Context, clock: FakeClock) -> str:
    """A SEV2 checkout incident, every step at a known time (see test_postmortem_draft)."""

    def step(hour: int, minute: int, second: int = 0) -> None:
        clock.current = at(hour, minute, second)

    step(10, 0)
    ref = ops.declare(
        ctx,
        "pager",
        {
            "title": "Checkout failing for EU customers",
            "services": ["checkout", "payments"],
            "scope": "EU web and mobile checkout",
            "symptom": "HTTP 502 on POST /checkout",
            "customer_impact": "12%",
            "financial_per_hour": 20000,
            "impact_started_at": "2026-11-26T09:41:00Z",
            "detected_at": "2026-11-26T09:52:30Z",
        },
    )["id"]
    step(10, 3)
    ops.assign_role(ctx, "dana", ref, {"role": "commander", "person": "dana"})
    step(10, 4)
    ops.assign_role(ctx, "dana", ref, {"role": "comms", "person": "lee"})
    step(10, 5)
    ops.note(ctx, "lee", ref, {"text": "grabbing coffee, back in 2"})
    step(10, 6)
    ops.fact(ctx, "dana", ref, {"text": "5xx ratio on checkout-eu is 12%", "source": "Grafana checkout"})
    step(10, 7)
    ops.guess(ctx, "dana", ref, {"text": "the 09:40 payments deploy broke the tokenizer"})
    step(10, 9)
    ops.set_severity(ctx, "dana", ref, {"severity": "SEV1", "why": "checkout is the revenue path"})
    step(10, 10)
    ops.propose(
        ctx,
        "dana",
        ref,
        {"title": "Roll back payments to v2.40", "kind": "rollback", "risk": "low", "expected_minutes": 5},
    )
    step(10, 11)
    ops.decide(
        ctx,
        "dana",
        ref,
        {
            "text": "Roll back payments",
            "why": "the deploy is the only change in the window",
            "alternatives": ["fail over to us-east"],
            "irreversible": True,
        },
    )
    step(10, 12)
    ops.apply(ctx, "dana", ref, {"mitigation": "M1", "changes": "payments v2.41 -> v2.40"})
    step(10, 15)
    ops.hand_off_role(ctx, "dana", ref, {"role": "commander", "person": "sam", "note": "shift ends"})
    step(10, 17)
    ops.outcome(ctx, "sam", ref, {"mitigation": "M1", "outcome": "effective", "before": 0.12, "after": 0.002})
    step(10, 18)
    ops.confirm(ctx, "sam", ref, {"guess": "G1", "source": "payments logs"})
    step(10, 20)
    ops.mitigated(ctx, "sam", ref, {"evidence": "5xx back to baseline"})
    step(10, 21)
    ops.note(ctx, "lee", ref, {"text": "Support confirms checkout works again", "pinned": True})
    step(10, 25)
    ops.update(ctx, "lee", ref, {"text": "Checkout works again; we are watching it.", "audience": "public"})
    step(10, 41)
    ops.resolve(
        ctx,
        "sam",
        ref,
        {
            "summary": "payments rolled back to v2.40",
            "impact_stopped": True,
            "risk_controlled": True,
            "final_update": "Checkout is back to normal.",
        },
    )
    return str(ref)


GOOD_SECTIONS: dict[str, Any] = {
    "trigger": "Deploy v2.41 of payments changed the tokenizer's input format.",
    "contributing_factors": [
        {"type": "change", "text": "The deploy pipeline has no canary stage for payments."},
        "detection: The 5xx alert waits ten minutes before it fires.",
    ],
    "root_cause_chain": [
        "v2.41 expected a new token format",
        "checkout still sent the old format",
        "no contract test covered the pair",
    ],
    "went_well": ["The rollback took effect within five minutes."],
}
