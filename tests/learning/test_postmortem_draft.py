"""The draft: built from a scripted incident whose every step has a known time."""

from __future__ import annotations

from typing import Any

import pytest

from tests.incidents.fakes import FakeClock
from tests.learning.conftest import GOOD_SECTIONS, at, scripted_incident
from warroom.domain.learning.markdown import to_markdown
from warroom.domain.learning.postmortem import Postmortem, draft, edit
from warroom.domain.shared.errors import ValidationError
from warroom.services import operations as ops
from warroom.services.learning import operations as lops


@pytest.fixture
def drafted(app: Any, clock: FakeClock) -> dict[str, Any]:
    ref = scripted_incident(app.context, clock)
    clock.current = at(11, 30)
    return lops.postmortem_draft(app.context, "sam", ref, {})


def test_key_times_and_durations_are_exact(drafted: dict[str, Any]) -> None:
    doc = drafted["document"]
    assert doc["key_times"] == {
        "impact_started": "2026-11-26T09:41:00.000000Z",
        "detected": "2026-11-26T09:52:30.000000Z",
        "declared": "2026-11-26T10:00:00.000000Z",
        "acknowledged": "2026-11-26T10:03:00.000000Z",
        "mitigated": "2026-11-26T10:20:00.000000Z",
        "resolved": "2026-11-26T10:41:00.000000Z",
        "closed": None,
    }
    assert doc["durations"] == {
        "time_to_detect": 690.0,
        "time_to_declare": 450.0,
        "time_to_acknowledge": 180.0,
        "time_to_mitigate": 2340.0,  # from the impact start, as the reliability review counts
        "time_to_resolve": 3600.0,
    }
    assert doc["drafted_at"] == "2026-11-26T11:30:00.000000Z"


def test_impact_keeps_customer_financial_and_data_dimensions_apart(drafted: dict[str, Any]) -> None:
    impact = drafted["document"]["impact"]
    assert impact["duration_seconds"] == 3600.0
    assert impact["started_at"] == "2026-11-26T09:41:00.000000Z"
    assert impact["ended_at"] == "2026-11-26T10:41:00.000000Z"
    assert impact["customer_share"] == 0.12
    assert impact["financial_per_hour"] == 20000
    assert impact["financial_estimate"] == 20000.0  # one hour of impact
    assert impact["data_integrity"] == "none"
    assert impact["security"] == "none"
    assert impact["scope"] == "EU web and mobile checkout"
    assert impact["services"] == ["checkout", "payments"]


def test_the_timeline_is_factual_timestamped_and_leaves_chatter_out(drafted: dict[str, Any]) -> None:
    timeline = drafted["document"]["timeline"]
    assert [(entry["at"][11:19], entry["kind"]) for entry in timeline] == [
        ("09:41:00", "impact_started"),
        ("09:52:30", "detected"),
        ("10:00:00", "incident_declared"),
        ("10:03:00", "role_assigned"),
        ("10:04:00", "role_assigned"),
        ("10:06:00", "fact_recorded"),
        ("10:09:00", "severity_changed"),
        ("10:10:00", "mitigation_proposed"),
        ("10:11:00", "decision_recorded"),
        ("10:12:00", "mitigation_applied"),
        ("10:15:00", "role_handed_off"),
        ("10:17:00", "mitigation_outcome_recorded"),
        ("10:18:00", "guess_confirmed"),
        ("10:20:00", "incident_mitigated"),
        ("10:21:00", "note_added"),
        ("10:25:00", "status_update_posted"),
        ("10:41:00", "status_update_posted"),  # the last public word, posted with the resolve
        ("10:41:00", "incident_resolved"),
    ]
    texts = {entry["kind"]: entry["text"] for entry in timeline}
    assert "coffee" not in " ".join(texts.values())  # an unpinned note is chatter
    assert texts["note_added"] == "Note: Support confirms checkout works again"
    assert texts["severity_changed"].startswith("Severity SEV2 -> SEV1")
    assert texts["role_handed_off"] == "commander handed off from dana to sam: shift ends"
    assert texts["guess_confirmed"] == (
        "Guess G1 confirmed: the 09:40 payments deploy broke the tokenizer (source: payments logs)"
    )
    assert texts["mitigation_outcome_recorded"] == (
        "Mitigation M1 was effective: Roll back payments to v2.40 (0.12 -> 0.002)"
    )
    assert texts["decision_recorded"].endswith("(irreversible)")
    assert texts["incident_resolved"] == (
        "Resolved (impact stopped, risk controlled): payments rolled back to v2.40"
    )


def test_the_draft_asks_what_the_evidence_raises(drafted: dict[str, Any]) -> None:
    prompts = drafted["document"]["prompts"]
    assert (
        "late signals: detection came 11m 30s after impact started; which signal could have shown it sooner?"
        in prompts
    )
    assert "hard decisions: D1 'Roll back payments' could not be undone" in prompts
    assert any(p.startswith("went well: mitigation M1") and "5m 00s after" in p for p in prompts)


def test_sections_people_write_start_empty_and_survive_a_redraft(app: Any, clock: FakeClock) -> None:
    ref = scripted_incident(app.context, clock)
    first = lops.postmortem_draft(app.context, "sam", ref, {})["document"]
    assert first["contributing_factors"] == [] and first["root_cause_chain"] == []
    assert first["summary"] == first["suggested_summary"]
    lops.postmortem_edit(app.context, "sam", ref, GOOD_SECTIONS | {"summary": "Checkout broke for an hour."})
    clock.current = at(12, 0)
    ops.note(app.context, "sam", ref, {"text": "Vendor confirmed the token format", "pinned": True})
    again = lops.postmortem_draft(app.context, "sam", ref, {})
    doc = again["document"]
    assert again["revision"] == 3
    assert doc["summary"] == "Checkout broke for an hour."
    assert doc["root_cause_chain"] == GOOD_SECTIONS["root_cause_chain"]
    assert doc["contributing_factors"][1] == {
        "type": "detection",
        "text": "The 5xx alert waits ten minutes before it fires.",
    }
    assert doc["timeline"][-1]["text"] == "Note: Vendor confirmed the token format"


def test_a_summary_nobody_edited_follows_the_incident(app: Any, clock: FakeClock) -> None:
    ref = scripted_incident(app.context, clock)
    lops.postmortem_draft(app.context, "sam", ref, {})
    clock.current = at(12, 0)
    ops.set_severity(app.context, "sam", ref, {"severity": "SEV2"})
    doc = lops.postmortem_draft(app.context, "sam", ref, {})["document"]
    assert doc["summary"].startswith("SEV2 availability incident on checkout, payments")


def test_editing_checks_factor_types_and_section_names(drafted: dict[str, Any]) -> None:
    doc = Postmortem.from_dict(drafted["document"])
    with pytest.raises(ValidationError) as bad_type:
        edit(doc, {"contributing_factors": [{"type": "people", "text": "x"}]})
    assert bad_type.value.field == "contributing_factors[0].type"
    with pytest.raises(ValidationError) as unknown:
        edit(doc, {"root_cause": ["x"]})
    assert unknown.value.field == "root_cause"
    with pytest.raises(ValidationError):
        edit(doc, {"contributing_factors": ["no type here"]})
    # what is drawn from the incident may come back unchanged from `show --json`: ignored
    same = edit(doc, {"timeline": [], "key_times": {}})
    assert same.timeline == doc.timeline


def test_the_document_round_trips_through_its_stored_form(drafted: dict[str, Any]) -> None:
    doc = Postmortem.from_dict(drafted["document"])
    assert doc.to_dict() == drafted["document"]


def test_markdown_has_every_section_in_reading_order(app: Any, clock: FakeClock) -> None:
    ref = scripted_incident(app.context, clock)
    lops.postmortem_edit(app.context, "sam", ref, GOOD_SECTIONS)
    lops.followup_add(
        app.context,
        "sam",
        ref,
        {"title": "Canary stage | payments", "owner": "erin", "due": "2026-12-15", "kind": "prevent"},
    )
    text = lops.postmortem_show(app.context, ref, {"format": "md"})["markdown"]
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Summary",
        "## Impact",
        "## Key times",
        "## Timeline",
        "## Trigger",
        "## Contributing factors",
        "## Root-cause chain",
        "## What went well",
        "## Decisions that were hard",
        "## Signals that were late",
        "## Tooling that failed",
        "## Follow-ups",
        "## Questions the timeline raises",
    ]
    assert "| 2026-11-26 09:41:00Z | Impact started (stated at declaration) | pager |" in text
    assert "- **change:** The deploy pipeline has no canary stage for payments." in text
    assert "1. v2.41 expected a new token format" in text
    assert "| A1 | Canary stage \\| payments | prevent | erin | 2026-12-15 | open |" in text
    assert "| time to mitigate | 39m 00s |" in text
    assert "_not written yet_" in text  # hard decisions: empty sections say so


def test_markdown_escapes_text_that_would_read_as_markup(drafted: dict[str, Any]) -> None:
    doc = edit(
        Postmortem.from_dict(drafted["document"]),
        {"trigger": "# not a heading", "went_well": ["1. not a list"]},
    )
    text = to_markdown(doc)
    assert "\\# not a heading" in text
    assert "- 1\\. not a list" in text


def test_a_draft_of_an_unknown_incident_is_not_found(app: Any) -> None:
    from warroom.domain.shared.errors import NotFound

    with pytest.raises(NotFound):
        lops.postmortem_draft(app.context, "sam", "INC-404", {})
    with pytest.raises(ValidationError):
        lops.postmortem_show(app.context, "bogus")


def test_measured_impact_is_kept_without_every_reading(app: Any, clock: FakeClock) -> None:
    from tests.incidents.builders import Incident

    incident = Incident()
    payload = {
        "measured_at": "2026-11-26T10:05:00.000000Z",
        "summary": "checkout 5xx ratio 12% (baseline 0.2%); customer impact 12.00%",
        "status": "measured",
        "customer_share": 0.12,
        "financial_per_hour": None,
        "severity": "SEV2",
        "services": [{"service": "checkout", "indicators": [{"line": "..."}] * 50}],
    }
    incident.record("impact_measured", payload)
    doc = draft(incident.state, incident.events, now=incident.now)
    assert doc.impact.measured == {
        "measured_at": "2026-11-26T10:05:00.000000Z",
        "summary": "checkout 5xx ratio 12% (baseline 0.2%); customer impact 12.00%",
        "status": "measured",
        "customer_share": 0.12,
        "severity": "SEV2",
    }
    assert doc.timeline[-1].text == (
        "Impact measured (suggests SEV2): checkout 5xx ratio 12% (baseline 0.2%); customer impact 12.00%"
    )
    assert "- **Measured:** checkout 5xx ratio 12%" in to_markdown(doc)
