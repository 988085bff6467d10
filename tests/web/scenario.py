"""A realistic warroom to look at: what a responder's phone shows in the middle of a bad night.

INC-1 was declared from Alertmanager (four checkout alerts, one resolved since), has a long
title, roles, facts, guesses, a decision, mitigations with a long PromQL verification
query, a status update and a note. INC-2 is resolved and closed with a postmortem draft
and follow-ups. One warning on search waits in the triage queue. Built through the same
webhooks and operations the CLI and the API use.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from warroom.bootstrap import App
from warroom.domain.shared.timefmt import iso
from warroom.services import operations as ops
from warroom.services.identity import auth
from warroom.services.learning import operations as lops
from warroom.services.oncall import directory

LONG_TITLE = (
    "Checkout 5xx for EU card payments after the payments-gateway v2.14.0 rollout "
    "(3-D Secure callbacks time out, basket totals recalculated twice)"
)
LONG_QUERY = (
    'sum by (job,service,route,region,payment_method)(rate(http_requests_total{service="checkout",'
    'route=~"/api/checkout/(confirm|3ds-callback|basket/recalculate)",status=~"5..",region="eu-west-1"}[5m]))'
    '/sum by (job,service,route,region,payment_method)(rate(http_requests_total{service="checkout"}[5m]))>0.05'
)
GENERATOR = "http://prometheus.internal:9090/graph?g0.expr=" + "x" * 300 + "&g0.tab=1"


def _alert(name: str, route: str, started: datetime, status: str = "firing") -> dict[str, Any]:
    labels = {
        "alertname": name,
        "service": "checkout",
        "severity": "critical",
        "team": "storefront",
        "route": route,
        "region": "eu-west-1",
        "cluster": "prod-eu-west-1-k8s-blue",
        "pod": "checkout-7d9f8c6b5-x2x9q",
    }
    alert = {
        "status": status,
        "labels": labels,
        "annotations": {
            "summary": f"{name} on checkout {route}",
            "description": f"More than 5% of {route} requests failed with 5xx over 5 minutes.",
            "runbook_url": f"https://runbooks.example.com/checkout/{name.lower()}",
        },
        "startsAt": iso(started),
        "endsAt": iso(started + timedelta(minutes=9)) if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": GENERATOR,
        "fingerprint": f"{abs(hash((name, route))) % 16**12:012x}",
    }
    return alert


def _post_alerts(base: str, token: str, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    body = {
        "receiver": "warroom",
        "status": "firing",
        "alerts": alerts,
        "groupLabels": {"service": "checkout"},
        "commonLabels": {"service": "checkout"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.internal:9093",
        "version": "4",
        "groupKey": '{}:{service="checkout"}',
        "truncatedAlerts": 0,
    }
    answer = httpx.post(f"{base}/hooks/alertmanager", json=body, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def build(app: App, base: str) -> dict[str, str]:
    """Fill the database behind ``base`` (a running ``create_app`` server); the refs made."""
    ctx = app.context
    now = datetime.now(UTC)
    hook, _ = auth.create_token(ctx, "alertmanager:prod", "ingest")
    started = now - timedelta(minutes=23)
    routes = ["/api/checkout/confirm", "/api/checkout/3ds-callback", "/api/checkout/basket/recalculate"]
    alerts = [
        _alert("CheckoutHighErrorRatio", r, started + timedelta(minutes=i)) for i, r in enumerate(routes)
    ]
    alerts.append(_alert("CheckoutLatencyP99", "/api/checkout/confirm", started - timedelta(minutes=2)))
    ref = str(
        ops.declare(
            ctx,
            "pager",
            {
                "title": LONG_TITLE,
                "services": "checkout",
                "customer_impact": "12%",
                "symptom": "EU card checkouts end in a 502 page after 3-D Secure",
                "detected_at": iso(started),
            },
        )["id"]
    )
    attached = _post_alerts(base, hook, alerts)
    assert attached["updated"] == [ref], attached
    resolved = dict(alerts[3], status="resolved", endsAt=iso(now - timedelta(minutes=3)))
    _post_alerts(base, hook, [resolved])

    ops.assess(ctx, "alice", ref, {"customer_impact": "18%", "critical_journey": "checkout"})
    # The longest label a role tile shows: a full name beside a long handle.
    directory.put_person(ctx, {"handle": "alice.nakamura-oconnell", "name": "Alice Nakamura-O'Connell"})
    directory.put_person(ctx, {"handle": "bob", "name": "Bob Okafor"})
    ops.assign_role(ctx, "alice", ref, {"role": "commander", "person": "alice.nakamura-oconnell"})
    ops.assign_role(ctx, "alice", ref, {"role": "comms", "person": "bob"})
    ops.fact(
        ctx,
        "alice",
        ref,
        {
            "text": "EU card payments fail with 502 from payments-gateway since 21:58; other regions fine",
            "source": "https://grafana.example.com/d/checkout-overview/checkout?orgId=1&var-region=eu-west-1",
        },
    )
    ops.fact(ctx, "bob", ref, {"text": "3-D Secure callbacks time out after 30 s", "source": "logs"})
    ops.guess(ctx, "alice", ref, {"text": "payments-gateway v2.14.0 changed the callback timeout"})
    ops.guess(ctx, "bob", ref, {"text": "the EU card processor is degraded"})
    ops.decide(
        ctx,
        "alice",
        ref,
        {
            "text": "Roll back payments-gateway to v2.13.4",
            "why": "fastest reversible step",
            "alternatives": "a, b",
        },
    )
    ops.propose(
        ctx,
        "alice",
        ref,
        {
            "title": "Roll back payments-gateway to v2.13.4 in eu-west-1",
            "kind": "rollback",
            "risk": "low",
            "steps": [
                "kubectl -n payments rollout undo deployment/payments-gateway --to-revision=41",
                "watch",
            ],
            "verification": LONG_QUERY,
        },
    )
    ops.apply(ctx, "alice", ref, {"mitigation": "M1", "changes": "payments-gateway v2.14.0 -> v2.13.4"})
    ops.propose(
        ctx,
        "bob",
        ref,
        {"title": "Route EU card traffic to the backup processor", "kind": "traffic_shift", "risk": "high"},
    )
    ops.update(
        ctx, "bob", ref, {"text": "EU card checkouts fail; rolling back a deploy.", "audience": "public"}
    )
    ops.note(ctx, "alice", ref, {"text": "x" * 20 + "-" + "y" * 120, "pinned": "true"})

    old = ops.declare(
        ctx,
        "alice",
        {"title": "Search latency", "services": "search", "customer_impact": "3%", "kind": "latency"},
    )["id"]
    ops.resolve(
        ctx, "alice", old, {"summary": "cache warmed", "impact_stopped": True, "risk_controlled": True}
    )
    ops.close(ctx, "alice", old, {})
    lops.postmortem_draft(ctx, "alice", old, {})
    lops.postmortem_edit(
        ctx,
        "alice",
        old,
        {
            "trigger": "A reindex of the eu-west search cluster ran during peak traffic with a cold cache.",
            "went_well": [
                "The cache warmed within ten minutes",
                "Obviously the on-call engineer should have waited",
            ],
        },
    )
    lops.followup_add(
        ctx,
        "alice",
        old,
        {"title": "Warm the cache on deploy", "owner": "bob", "due": "14d", "kind": "prevent"},
    )

    search = {
        "labels": {
            "alertname": "SlowSearch",
            "service": "search",
            "severity": "warning",
            "region": "eu-west",
        },
        "annotations": {
            "summary": "search p95 over 800 ms on every shard of the eu-west cluster since the reindex"
        },
        "starts_at": iso(now - timedelta(minutes=5)),
    }
    generic, _ = auth.create_token(ctx, "generic-hook", "ingest", "generic")
    answer = httpx.post(f"{base}/hooks/generic", json=search, headers={"Authorization": f"Bearer {generic}"})
    assert answer.status_code == 200, answer.text
    lops.followup_add(
        ctx,
        "alice",
        ref,
        {
            "title": "Alert on 3-D Secure callback timeouts per region",
            "owner": "alice.nakamura-oconnell",
            "due": "7d",
            "kind": "detect",
        },
    )
    return {"open": ref, "closed": str(old)}
