"""Timeline lines for people, from the API's event views."""

from __future__ import annotations

from warroom.services.incidents.describe import describe


def test_a_handoff_names_both_people_and_the_note() -> None:
    event = {
        "kind": "role_handed_off",
        "payload": {"role": "commander", "from": "a", "to": "b", "note": "tired"},
    }
    assert describe(event) == "commander handed off from a to b: tired"


def test_a_decision_lists_its_alternatives_and_irreversibility() -> None:
    event = {
        "kind": "decision_recorded",
        "payload": {
            "ref": "D1",
            "text": "fail closed",
            "why": "data",
            "alternatives": ["wait"],
            "reversible": False,
        },
    }
    assert describe(event) == "D1 decided: fail closed, because data (considered: wait) [irreversible]"


def test_an_unknown_kind_or_payload_shape_degrades_to_the_kind() -> None:
    assert describe({"kind": "something_new", "payload": {}}) == "something new"
    assert describe({"kind": "role_assigned", "payload": None}) == "None took None"
