"""Follow-ups: owner and due date required, tracked until done, listed overdue first across
incidents from a read model that always matches the timeline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.incidents.fakes import FakeClock
from tests.learning.conftest import at
from warroom.domain.shared.errors import InvalidTransition, NotFound, ValidationError
from warroom.services import operations as ops
from warroom.services.incidents.commands import get_incident
from warroom.services.learning import operations as lops


def _declare(ctx: Any, title: str, service: str) -> str:
    return str(ops.declare(ctx, "pager", {"title": title, "services": [service]})["id"])


def _add(
    ctx: Any, ref: str, title: str, due: str, owner: str = "erin", kind: str = "prevent"
) -> dict[str, Any]:
    return lops.followup_add(ctx, "sam", ref, {"title": title, "owner": owner, "due": due, "kind": kind})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x", "due": "14d", "kind": "prevent"}, "owner"),
        ({"title": "x", "owner": "erin", "kind": "prevent"}, "due"),
        ({"title": "", "owner": "erin", "due": "14d", "kind": "prevent"}, "title"),
        ({"title": "x", "owner": "erin", "due": "14d", "kind": "someday"}, "kind"),
        ({"title": "x", "owner": "erin", "due": "2026-13-40", "kind": "detect"}, "due"),
        ({"title": "x", "owner": "erin", "due": "2026-11-01", "kind": "detect"}, "due"),  # in the past
    ],
)
def test_a_followup_needs_title_owner_due_date_and_kind(app: Any, body: dict[str, Any], field: str) -> None:
    ref = _declare(app.context, "Checkout 5xx", "checkout")
    with pytest.raises(ValidationError) as refused:
        lops.followup_add(app.context, "sam", ref, body)
    assert refused.value.field == field
    assert get_incident(app.context, ref).followups == []


def test_due_dates_read_as_people_write_them(app: Any) -> None:
    ref = _declare(app.context, "Checkout 5xx", "checkout")
    assert _add(app.context, ref, "a", "2026-12-01")["due"] == "2026-12-01T23:59:59.000000Z"
    assert _add(app.context, ref, "b", "14d")["due"] == "2026-12-10T10:00:00.000000Z"
    assert _add(app.context, ref, "c", "2w")["due"] == "2026-12-10T10:00:00.000000Z"
    assert _add(app.context, ref, "d", "2026-12-01T09:00:00+02:00")["due"] == "2026-12-01T07:00:00.000000Z"


def test_the_list_puts_overdue_first_across_incidents(app: Any, clock: FakeClock) -> None:
    ctx = app.context
    first = _declare(ctx, "Checkout 5xx", "checkout")
    second = _declare(ctx, "Search slow", "search")
    _add(ctx, first, "Canary stage", "2026-12-20")
    _add(ctx, second, "Alert on p99", "2026-11-28", owner="frank", kind="detect")
    _add(ctx, first, "Runbook for rollback", "2026-12-02", owner="frank", kind="process")
    _add(ctx, second, "Cache warmup", "2026-11-27", kind="mitigate")
    lops.followup_done(ctx, "sam", second, {"followup": "A2"})  # cache warmup
    clock.current = at(10, 0) + timedelta(days=5)  # 2026-12-01 10:00
    rows = lops.followup_list(ctx, {})
    assert [(row["incident"], row["ref"], row["overdue"]) for row in rows] == [
        (second, "A1", True),  # due 11-28: overdue by three days
        (first, "A2", False),  # due 12-02
        (first, "A1", False),  # due 12-20
    ]
    assert rows[0]["overdue_seconds"] == pytest.approx(timedelta(days=2, hours=10, seconds=1).total_seconds())
    assert rows[0]["incident_title"] == "Search slow"
    assert [row["ref"] for row in lops.followup_list(ctx, {"owner": "frank"})] == ["A1", "A2"]
    assert [row["ref"] for row in lops.followup_list(ctx, {"overdue": True})] == ["A1"]
    assert [(r["ref"], r["status"]) for r in lops.followup_list(ctx, {"status": "done"})] == [("A2", "done")]
    assert len(lops.followup_list(ctx, {"status": "all"})) == 4
    assert [r["ref"] for r in lops.followup_list(ctx, {"incident": first})] == ["A2", "A1"]


def test_wontdo_needs_why_and_a_closed_followup_stays_closed(app: Any) -> None:
    ctx = app.context
    ref = _declare(ctx, "Checkout 5xx", "checkout")
    _add(ctx, ref, "Rewrite the tokenizer", "30d")
    with pytest.raises(ValidationError) as no_reason:
        lops.followup_wontdo(ctx, "sam", ref, {"followup": "A1"})
    assert no_reason.value.field == "why"
    declined = lops.followup_wontdo(ctx, "sam", ref, {"followup": "a1", "why": "the contract test covers it"})
    assert declined["status"] == "wontdo" and declined["why"] == "the contract test covers it"
    with pytest.raises(InvalidTransition, match="already wontdo"):
        lops.followup_done(ctx, "sam", ref, {"followup": "A1"})
    with pytest.raises(NotFound):
        lops.followup_done(ctx, "sam", ref, {"followup": "A9"})


def test_the_read_model_matches_the_folded_state(any_app: Any) -> None:
    ctx = any_app.context
    ref = _declare(ctx, "Checkout 5xx", "checkout")
    _add(ctx, ref, "Canary stage", "14d")
    _add(ctx, ref, "Alert on 5xx", "7d", kind="detect")
    lops.followup_done(ctx, "sam", ref, {"followup": "A2"})
    state = get_incident(ctx, ref)
    listed = {row["ref"]: row for row in lops.followup_list(ctx, {"status": "all"})}
    for item in state.followups:
        assert listed[item.ref]["status"] == item.status
        assert listed[item.ref]["due"] == item.due.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    events = [e["kind"] for e in ops.timeline(ctx, ref)]
    assert events.count("followup_added") == 2 and events.count("followup_updated") == 1
