"""Per-alert transitions, declaration rules and declaring from alerts: pure decisions, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from warroom.domain.alerts.declaring import declaration_for, declare_event, signal_facts
from warroom.domain.alerts.policy import AlertPolicy, policy_from_config
from warroom.domain.alerts.routing import AlertPolicyError, Route
from warroom.domain.alerts.signals import AlertSignal
from warroom.domain.alerts.transitions import Known, Outcome, transition
from warroom.domain.incidents.policy import ResponsePolicy
from warroom.domain.incidents.severity import IncidentKind, Severity

T0 = datetime(2026, 11, 26, 22, 26, 25, tzinfo=UTC)
NOW = T0 + timedelta(minutes=2)


def signal(status: str = "firing", starts_at: datetime | None = T0, **fields: Any) -> AlertSignal:
    labels = fields.pop("labels", {"alertname": "HighErrorRatio", "service": "checkout", "region": "eu-west"})
    base: dict[str, Any] = {
        "source": "alertmanager",
        "fingerprint": "115c12e7e9840226",
        "status": status,
        "labels": labels,
        "annotations": {"summary": "5xx ratio 18% on checkout"},
        "starts_at": starts_at,
        "ends_at": None if status == "firing" else starts_at and starts_at + timedelta(minutes=5),
        "summary": "5xx ratio 18% on checkout",
        "severity": "critical",
    }
    return AlertSignal(**(base | fields))


def known(status: str = "firing", starts_at: datetime | None = T0, **fields: Any) -> Known:
    base: dict[str, Any] = {
        "id": 1,
        "status": status,
        "service": "checkout",
        "starts_at": starts_at,
        "incident": None,
        "acknowledged": False,
    }
    return Known(**(base | fields))


# --- transitions -------------------------------------------------------------------------


def test_a_new_alert_is_stored_firing_or_resolved() -> None:
    assert transition(None, signal()) is Outcome.NEW_FIRING
    assert transition(None, signal("resolved")) is Outcome.NEW_RESOLVED


def test_a_redelivery_changes_nothing() -> None:
    assert transition(known(), signal()) is Outcome.UNCHANGED
    assert transition(known("resolved"), signal("resolved")) is Outcome.UNCHANGED


def test_a_resolved_alert_inside_a_firing_body_resolves_it() -> None:
    assert transition(known(), signal("resolved")) is Outcome.RESOLVED


def test_a_late_firing_copy_after_the_resolution_changes_nothing() -> None:
    assert transition(known("resolved"), signal("firing", starts_at=T0)) is Outcome.UNCHANGED


def test_the_same_alert_firing_again_later_is_a_new_episode() -> None:
    later = T0 + timedelta(hours=1)
    assert transition(known("resolved"), signal("firing", starts_at=later)) is Outcome.REFIRED
    assert (
        transition(known("resolved"), signal("firing", starts_at=None, source="generic")) is Outcome.REFIRED
    )


def test_a_late_resolution_of_an_older_episode_changes_nothing() -> None:
    assert transition(known(starts_at=T0 + timedelta(hours=1)), signal("resolved")) is Outcome.UNCHANGED


def pagerduty(action: str) -> AlertSignal:
    labels = {"source": "db1"} if action == "trigger" else {}
    return signal(
        "resolved" if action == "resolve" else "firing",
        starts_at=None,
        source="pagerduty",
        fingerprint="key-1",
        labels=labels,
        extra={"event_action": action},
    )


def test_pagerduty_trigger_after_resolve_reopens_and_ack_or_resolve_of_unknown_keys_are_dropped() -> None:
    assert transition(known("resolved"), pagerduty("trigger")) is Outcome.REFIRED
    assert transition(None, pagerduty("acknowledge")) is Outcome.UNCHANGED
    assert transition(None, pagerduty("resolve")) is Outcome.UNCHANGED
    assert transition(known("resolved"), pagerduty("resolve")) is Outcome.UNCHANGED
    assert transition(known("resolved"), pagerduty("acknowledge")) is Outcome.UNCHANGED


def test_pagerduty_acknowledge_is_recorded_once_and_leaves_the_alert_firing() -> None:
    assert transition(known(), pagerduty("acknowledge")) is Outcome.ACKNOWLEDGED
    assert transition(known(acknowledged=True), pagerduty("acknowledge")) is Outcome.UNCHANGED
    assert transition(known(), pagerduty("resolve")) is Outcome.RESOLVED


# --- declaration rules -----------------------------------------------------------------------


CHECKOUT = Route("checkout", "storefront", 1, True)
SEARCH = Route("search", "storefront", 2, True)


def test_by_default_a_critical_alert_on_a_tier_1_service_declares_sev2() -> None:
    policy = AlertPolicy()
    rule = policy.rule_for({"service": "checkout"}, "critical", CHECKOUT)
    assert rule is not None and rule.severity is Severity.SEV2
    assert policy.rule_for({"service": "checkout"}, "warning", CHECKOUT) is None
    assert policy.rule_for({"service": "search"}, "critical", SEARCH) is None
    assert policy.rule_for({"service": "x"}, "critical", Route("x", "sre", None, False)) is None


def test_rules_come_from_the_alerts_table_and_the_first_match_wins() -> None:
    policy = policy_from_config(
        {
            "declare": [
                {"name": "staging never", "matchers": ['env="staging"'], "severity": "SEV4"},
                {
                    "name": "tier 2 errors",
                    "alert_severity": ["critical", "error"],
                    "tier": 2,
                    "severity": "SEV3",
                    "kind": "latency",
                },
            ],
            "scope_labels": ["region"],
        }
    )
    first = policy.rule_for({"env": "staging"}, "critical", CHECKOUT)
    assert first is not None and first.name == "staging never"
    second = policy.rule_for({"env": "prod"}, "error", SEARCH)
    assert second is not None and (second.severity, second.kind) == (Severity.SEV3, IncidentKind.LATENCY)
    assert policy.scope_labels == ("region",)
    assert policy_from_config({"declare": []}).rules == ()


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"declare": [{"severity": "SEV9"}]}, r"alerts\.declare\[0\]\.severity"),
        ({"declare": [{"severity": "SEV2", "kind": "outage"}]}, r"alerts\.declare\[0\]\.kind"),
        ({"declare": [{"severity": "SEV2", "matchers": ["job=~("]}]}, r"alerts\.declare\[0\]\.matchers\[0\]"),
        (
            {"declare": [{"severity": "SEV2", "alert_severity": "urgent"}]},
            r"alerts\.declare\[0\]\.alert_severity",
        ),
        ({"declare": [{"severity": "SEV2", "tier": 9}]}, r"alerts\.declare\[0\]\.tier"),
        ({"declare": [{"severity": "SEV2", "sevrity": "x"}]}, r"unknown key 'sevrity'"),
        ({"declare": {"severity": "SEV2"}}, r"alerts\.declare must be an array"),
        ({"scope_labels": "region"}, r"alerts\.scope_labels"),
    ],
)
def test_a_wrong_rule_is_refused_naming_its_key(config: dict[str, Any], named: str) -> None:
    with pytest.raises(AlertPolicyError, match=named):
        policy_from_config(config)


def test_a_declaration_from_alerts_takes_detection_from_the_earliest_starts_at() -> None:
    early = signal(
        starts_at=T0,
        fingerprint="a",
        labels={
            "alertname": "HighErrorRatio",
            "service": "checkout",
            "region": "eu-west",
            "route": "/api/checkout",
        },
    )
    late = signal(
        starts_at=T0 + timedelta(seconds=30),
        fingerprint="b",
        labels={"alertname": "HighErrorRatio", "service": "checkout", "region": "us-east"},
    )
    policy = AlertPolicy()
    rule = policy.rules[0]
    made = declaration_for([signal_facts(late), signal_facts(early)], CHECKOUT, policy, now=NOW, rule=rule)
    decl = made.declaration
    assert decl.detected_at == T0
    assert decl.detected_evidence == "alert HighErrorRatio (alertmanager a) startsAt"
    assert decl.title == "HighErrorRatio on checkout"
    assert decl.symptom == "5xx ratio 18% on checkout"
    assert decl.scope == "region: eu-west, us-east; route: /api/checkout"
    assert (decl.severity, decl.services) == (Severity.SEV2, ["checkout"])
    assert decl.why is not None and "critical on a tier-1 service" in decl.why
    assert made.ownership_note is None
    event = declare_event(made, now=NOW, policy=ResponsePolicy())
    assert event.payload["severity"] == "SEV2"
    assert event.payload["explanation"].startswith("SEV2: alert policy rule 'critical on a tier-1 service'")
    assert "impact not measured yet" in event.payload["explanation"]
    assert event.payload["milestones"]["detected_at"]["at"] == "2026-11-26T22:26:25.000000Z"


def test_detection_is_never_after_declaration_even_with_a_clock_ahead() -> None:
    ahead = signal(starts_at=NOW + timedelta(hours=1))
    made = declaration_for([signal_facts(ahead)], CHECKOUT, AlertPolicy(), now=NOW)
    assert made.declaration.detected_at == NOW


def test_declaring_from_an_alert_outside_the_catalog_records_ownership_unclear() -> None:
    stray = signal(labels={"alertname": "DiskFull", "service": "billing-batch"})
    made = declaration_for(
        [signal_facts(stray)], Route("billing-batch", "sre", None, False), AlertPolicy(), now=NOW
    )
    assert made.ownership_note is not None
    assert made.ownership_note.startswith("ownership unclear: no catalog service matched alert DiskFull")
    assert made.ownership_note.endswith("routed to sre")
