"""Publishing (lint findings refused unless overridden with a recorded reason) and the close
rules end to end: a SEV1/SEV2 incident closes only with a published postmortem and a follow-up."""

from __future__ import annotations

from typing import Any

import pytest

from tests.incidents.fakes import FakeClock
from tests.learning.conftest import GOOD_SECTIONS, at, scripted_incident
from warroom.domain.learning.followups import LintRefused
from warroom.domain.shared.errors import InvalidTransition, ValidationError
from warroom.services import operations as ops
from warroom.services.incidents.commands import get_incident
from warroom.services.learning import operations as lops

BLAMEFUL = {"went_well": ["Alice forgot the canary, but the rollback was quick."]}


@pytest.fixture
def incident(app: Any, clock: FakeClock) -> str:
    ref = scripted_incident(app.context, clock)
    clock.current = at(11, 0)
    return ref


def _resolved_sev2(ctx: Any, clock: FakeClock) -> str:
    ref = scripted_incident(ctx, clock)
    ops.set_severity(ctx, "sam", ref, {"severity": "SEV2"})
    clock.current = at(11, 0)
    return ref


def _events(app: Any, ref: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in ops.timeline(app.context, ref, limit=1000) if e["kind"] == kind]


def test_publishing_with_lint_findings_is_refused_and_records_nothing(app: Any, incident: str) -> None:
    lops.postmortem_edit(app.context, "sam", incident, GOOD_SECTIONS | BLAMEFUL)
    with pytest.raises(LintRefused) as refused:
        lops.postmortem_publish(app.context, "sam", incident, {})
    assert "1 blameless-lint finding(s)" in refused.value.message
    assert refused.value.findings[0].text == "Alice forgot"
    assert refused.value.findings[0].location == "went_well[0] 1:1"
    assert _events(app, incident, "postmortem_published") == []
    assert lops.postmortem_show(app.context, incident)["status"] == "draft"


def test_an_override_needs_a_reason(app: Any, incident: str) -> None:
    lops.postmortem_edit(app.context, "sam", incident, GOOD_SECTIONS | BLAMEFUL)
    with pytest.raises(ValidationError) as missing:
        lops.postmortem_publish(app.context, "sam", incident, {"override": True})
    assert missing.value.field == "why"


def test_an_override_with_a_reason_publishes_and_is_recorded(
    app: Any, incident: str, clock: FakeClock
) -> None:
    lops.postmortem_edit(app.context, "sam", incident, GOOD_SECTIONS | BLAMEFUL)
    clock.current = at(11, 5)
    view = lops.postmortem_publish(
        app.context, "sam", incident, {"override": True, "why": "a quote from the customer's report"}
    )
    assert view["status"] == "published"
    assert view["published_at"] == "2026-11-26T11:05:00.000000Z"
    assert view["published_by"] == "sam"
    assert view["override_why"] == "a quote from the customer's report"
    (event,) = _events(app, incident, "postmortem_published")
    assert event["actor"] == "sam"
    assert event["payload"] == {
        "findings": 1,
        "rules": {"blame": 1},
        "locations": ["went_well[0] 1:1: Alice forgot"],
        "override": True,
        "why": "a quote from the customer's report",
    }
    assert get_incident(app.context, incident).postmortem_published is True


def test_a_clean_postmortem_publishes_without_override(app: Any, incident: str) -> None:
    lops.postmortem_edit(app.context, "sam", incident, GOOD_SECTIONS)
    assert lops.postmortem_lint(app.context, incident) == {"incident": incident, "ok": True, "findings": []}
    view = lops.postmortem_publish(app.context, "sam", incident, {})
    assert view["status"] == "published" and view["override_why"] is None
    (event,) = _events(app, incident, "postmortem_published")
    assert event["payload"]["override"] is False and event["payload"]["findings"] == 0


def test_publishing_needs_trigger_factors_and_chain(app: Any, incident: str) -> None:
    lops.postmortem_draft(app.context, "sam", incident, {})
    with pytest.raises(InvalidTransition) as refused:
        lops.postmortem_publish(app.context, "sam", incident, {})
    assert "write trigger, contributing_factors, root_cause_chain" in refused.value.message


def test_an_open_incident_cannot_publish_its_postmortem(app: Any, clock: FakeClock) -> None:
    ref = ops.declare(app.context, "pager", {"title": "Search slow", "services": ["search"]})["id"]
    lops.postmortem_edit(app.context, "sam", ref, GOOD_SECTIONS)
    with pytest.raises(InvalidTransition, match="resolve it before publishing"):
        lops.postmortem_publish(app.context, "sam", ref, {})


def test_a_published_postmortem_is_final(app: Any, incident: str) -> None:
    lops.postmortem_edit(app.context, "sam", incident, GOOD_SECTIONS)
    lops.postmortem_publish(app.context, "sam", incident, {})
    with pytest.raises(InvalidTransition, match="published"):
        lops.postmortem_edit(app.context, "sam", incident, {"trigger": "changed my mind"})
    with pytest.raises(InvalidTransition, match="already published"):
        lops.postmortem_publish(app.context, "sam", incident, {})


def test_a_sev2_closes_only_with_a_published_postmortem_and_a_followup(
    any_app: Any, clock: FakeClock
) -> None:
    ctx = any_app.context
    ref = _resolved_sev2(ctx, clock)
    with pytest.raises(InvalidTransition, match="publish its postmortem before closing"):
        ops.close(ctx, "sam", ref, {})
    lops.postmortem_edit(ctx, "sam", ref, GOOD_SECTIONS)
    lops.postmortem_publish(ctx, "sam", ref, {})
    with pytest.raises(InvalidTransition, match="add at least one follow-up"):
        ops.close(ctx, "sam", ref, {})
    lops.followup_add(
        ctx, "sam", ref, {"title": "Canary stage", "owner": "erin", "due": "14d", "kind": "prevent"}
    )
    assert ops.close(ctx, "sam", ref, {})["status"] == "closed"
    # follow-ups stay tracked after close
    clock.current = at(12, 0)
    done = lops.followup_done(ctx, "erin", ref, {"followup": "A1"})
    assert done["status"] == "done" and done["closed_at"] == "2026-11-26T12:00:00.000000Z"
    listed = lops.followup_list(ctx, {"status": "all"})
    assert [(row["incident"], row["ref"], row["status"]) for row in listed] == [(ref, "A1", "done")]


def test_a_sev3_closes_without_a_postmortem(any_app: Any, clock: FakeClock) -> None:
    ctx = any_app.context
    ref = ops.declare(
        ctx, "pager", {"title": "Search slow", "services": ["search"], "customer_impact": "1%"}
    )["id"]
    assert ops.show(ctx, ref)["severity"] in ("SEV3", "SEV4")
    ops.resolve(ctx, "sam", ref, {"summary": "cache warmed", "impact_stopped": True, "risk_controlled": True})
    assert ops.close(ctx, "sam", ref, {})["status"] == "closed"


def test_a_published_postmortem_is_amended_with_a_reason_and_published_again(
    any_app: Any, clock: FakeClock
) -> None:
    ctx = any_app.context
    ref = _resolved_sev2(ctx, clock)
    lops.postmortem_edit(ctx, "sam", ref, GOOD_SECTIONS)
    lops.postmortem_publish(ctx, "sam", ref, {})
    lops.followup_add(
        ctx, "sam", ref, {"title": "Canary stage", "owner": "erin", "due": "14d", "kind": "prevent"}
    )

    amended = lops.postmortem_amend(ctx, "lee", ref, {"why": "The vendor's report names a second trigger"})

    assert amended["status"] == "draft" and amended["published_at"] is None
    (event,) = _events(any_app, ref, "postmortem_amended")
    assert (
        event["payload"] == {"why": "The vendor's report names a second trigger"} and event["actor"] == "lee"
    )
    assert get_incident(ctx, ref).postmortem_published is False
    with pytest.raises(InvalidTransition, match="publish its postmortem before closing"):
        ops.close(ctx, "sam", ref, {})  # an amendment in progress holds the close
    edited = lops.postmortem_edit(ctx, "lee", ref, {"trigger": "A config push and the vendor's DNS change"})
    assert edited["revision"] > amended["revision"]
    with pytest.raises(LintRefused):  # the checks apply again
        lops.postmortem_edit(ctx, "lee", ref, BLAMEFUL)
        lops.postmortem_publish(ctx, "lee", ref, {})
    lops.postmortem_edit(ctx, "lee", ref, {"went_well": ["The rollback took four minutes."]})
    assert lops.postmortem_publish(ctx, "lee", ref, {})["status"] == "published"
    assert len(_events(any_app, ref, "postmortem_published")) == 2
    assert ops.close(ctx, "sam", ref, {})["status"] == "closed"
    with pytest.raises(InvalidTransition, match="closed; its postmortem is final"):
        lops.postmortem_amend(ctx, "lee", ref, {"why": "one more thing"})


@pytest.mark.parametrize(
    ("publish", "body", "error", "message"),
    [
        (False, {"why": "typo"}, InvalidTransition, "is not published"),
        (True, {"why": ""}, ValidationError, "why"),
        (True, {}, ValidationError, "why"),
        (True, {"why": "x" * 5000}, ValidationError, "why"),
    ],
)
def test_an_amendment_needs_a_published_postmortem_and_a_reason(
    app: Any, incident: str, publish: bool, body: dict[str, Any], error: type[Exception], message: str
) -> None:
    lops.postmortem_edit(app.context, "sam", incident, GOOD_SECTIONS)
    if publish:
        lops.postmortem_publish(app.context, "sam", incident, {})
    before = len(ops.timeline(app.context, incident, limit=1000))
    with pytest.raises(error, match=message):
        lops.postmortem_amend(app.context, "sam", incident, body)
    assert len(ops.timeline(app.context, incident, limit=1000)) == before
