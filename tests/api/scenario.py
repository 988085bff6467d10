"""One whole incident as CLI operations: (operation, incident, body), in order.

The same steps drive the embedded and the remote backend; their answers must be equal.
"""

from __future__ import annotations

from typing import Any

Step = tuple[str, str | None, dict[str, Any]]

WHOLE_INCIDENT: list[Step] = [
    (
        "declare",
        None,
        {
            "title": "Search results empty for some users",
            "kind": "availability",
            "services": ["search"],
            "scope": "EU, web",
            "symptom": "Empty result pages",
            "trigger": "",
            "customer_impact": "2%",
            "critical_journey": None,
            "financial_per_hour": None,
            "data_integrity": "none",
            "security": "none",
            "severity": None,
            "why": None,
            "detected_at": None,
            "impact_started_at": "2026-11-26T09:40:00Z",
        },
    ),
    ("list", None, {"status": None, "severity": None, "service": None, "open": False, "limit": 200}),
    ("role_assign", "INC-1", {"role": "commander", "person": "dana"}),
    ("role_assign", "INC-1", {"role": "scribe", "person": "sam"}),
    ("role_handoff", "INC-1", {"role": "commander", "person": "lee", "note": "Dana is off shift"}),
    ("fact", "INC-1", {"text": "Index shard 3 is read-only", "source": "ES cluster health"}),
    ("guess", "INC-1", {"text": "Disk watermark reached on shard 3"}),
    ("guess", "INC-1", {"text": "The 09:30 mapping change broke queries"}),
    ("confirm", "INC-1", {"guess": "G1", "source": "node disk at 96%"}),
    ("refute", "INC-1", {"guess": "G2", "why": "The mapping change was rolled out to staging only"}),
    (
        "decide",
        "INC-1",
        {
            "text": "Free disk before anything else",
            "why": "Cheapest, reversible",
            "alternatives": ["Failover"],
            "irreversible": False,
        },
    ),
    ("note", "INC-1", {"text": "Vendor ticket opened", "pinned": True}),
    (
        "change_add",
        None,
        {"service": "search", "kind": "config", "summary": "Mapping v12", "at": "2026-11-26T09:30:00Z"},
    ),
    ("changes", "INC-1", {}),
    ("prepared", "INC-1", {}),
    (
        "assess",
        "INC-1",
        {
            "customer_impact": "4%",
            "critical_journey": None,
            "financial_per_hour": "2,000",
            "data_integrity": None,
            "security": None,
        },
    ),
    ("severity", "INC-1", {"severity": "SEV4", "why": "Search degrades, checkout unaffected"}),
    (
        "propose",
        "INC-1",
        {
            "title": "Delete old snapshots on shard 3",
            "prepared": None,
            "kind": "other",
            "risk": "low",
            "reversible": True,
            "expected_minutes": 3.0,
            "changes": "removes snapshots older than 30 days",
            "authority": "lee",
            "verification": None,
        },
    ),
    ("approve", "INC-1", {"mitigation": "M1"}),
    ("apply", "INC-1", {"mitigation": "M1", "changes": None}),
    ("outcome", "INC-1", {"mitigation": "M1", "outcome": "effective", "note": "disk at 71%"}),
    ("mitigated", "INC-1", {"evidence": "error ratio back to baseline"}),
    ("stakeholder_add", "INC-1", {"target": "Search-PM@example.com", "audience": "public"}),
    ("stakeholder_add", "INC-1", {"target": "support@example.com", "audience": None}),
    ("stakeholder_remove", "INC-1", {"target": "support@example.com"}),
    ("stakeholders", "INC-1", {}),
    ("update_template", "INC-1", {}),
    ("update", "INC-1", {"text": "Search is recovering; next update in 60 minutes.", "audience": "public"}),
    (
        "resolve",
        "INC-1",
        {
            "summary": "Disk freed",
            "impact_stopped": True,
            "risk_controlled": True,
            "data_verified": False,
            "final_update": "Search is back to normal.",
        },
    ),
    ("reopen", "INC-1", {"why": "Shard 3 filled up again"}),
    (
        "resolve",
        "INC-1",
        {
            "summary": "Disk alert added",
            "impact_stopped": True,
            "risk_controlled": True,
            "data_verified": False,
            "final_update": "Search is back to normal again.",
        },
    ),
    ("close", "INC-1", {}),
    ("timeline", "INC-1", {"after": 0, "limit": 1000}),
    ("show", "INC-1", {}),
    ("verify", None, {}),
    ("verify", "INC-1", {}),
]

# Refusals: each must raise the same exception with the same message in both modes.
REFUSALS: list[Step] = [
    ("show", "INC-99", {}),
    ("show", "bogus", {}),
    ("fact", "INC-1", {"text": "", "source": "x"}),
    ("close", "INC-1", {}),
    ("severity", "INC-1", {"severity": "SEV9", "why": None}),
    ("timeline", "INC-1", {"after": 0, "limit": 5000}),
    ("timeline", "INC-1", {"after": -1, "limit": 10}),
    ("list", None, {"status": "sleeping", "limit": 10}),
    ("declare", None, {"title": "x", "customer_impact": "140%"}),
    ("approve", "INC-1", {"mitigation": "M9"}),
    ("stakeholder_add", "INC-1", {"target": "ops-slack", "audience": None}),
    ("stakeholder_add", "INC-1", {"target": "a@example.com", "audience": "everyone"}),
    ("stakeholder_add", "INC-1", {"target": "", "audience": None}),
    ("stakeholder_remove", "INC-1", {"target": "nobody@example.com"}),
    ("stakeholders", "INC-99", {}),
]
