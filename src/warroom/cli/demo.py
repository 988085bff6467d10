"""``warroom demo``: one scripted incident, start to finish, so a newcomer sees the flow."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from warroom.cli import render

Run = Callable[..., Any]


def _ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


def _step(title: str, as_json: bool) -> None:
    if not as_json:
        render.console.rule(f"[bold]{title}")


def play(run: Run, *, as_json: bool = False) -> dict[str, Any]:
    """Run the scripted incident through ``run(op, ref, body)``; returns the final room."""
    _step("A deploy goes out", as_json)
    run(
        "change_add",
        None,
        {
            "service": "checkout",
            "kind": "deploy",
            "at": _ago(14),
            "summary": "checkout v2.14.0 (new payment flow at 100%)",
        },
    )
    _step("Alert fires; the on-call declares (detection and declaration apart)", as_json)
    room = run(
        "declare",
        None,
        {
            "title": "Checkout returns 5xx for eu-west customers",
            "kind": "availability",
            "services": ["checkout"],
            "scope": "eu-west, /api/checkout",
            "symptom": "HTTP 500 on payment submit",
            "trigger": "after checkout v2.14.0 deploy",
            "customer_impact": "12%",
            "detected_at": _ago(6),
            "impact_started_at": _ago(11),
        },
    )
    ref = room["id"]
    if not as_json:
        render.declared(room)
    _step("Roles: commander, comms lead and scribe", as_json)
    run("role_assign", ref, {"role": "commander", "person": "alice"})
    run("role_assign", ref, {"role": "comms", "person": "dana"})
    run("role_assign", ref, {"role": "scribe", "person": "bob"})
    _step("Facts apart from guesses", as_json)
    run(
        "fact",
        ref,
        {
            "text": "eu-west checkout 5xx ratio is 37%; us-east and ap-south at baseline",
            "source": "Grafana checkout RED dashboard",
        },
    )
    run("guess", ref, {"text": "the v2.14.0 payment flow breaks eu-west payment provider calls"})
    run("update", ref, {"text": run("update_template", ref)["text"], "audience": "internal"})
    run(
        "update",
        ref,
        {
            "text": "Some customers in Europe cannot complete checkout. We are working on it.",
            "audience": "public",
        },
    )
    if not as_json:
        render.room(run("show", ref))
    _step("Mitigate first: the lowest-risk prepared action", as_json)
    prepared = run("prepared", ref)
    if prepared:
        room = run("propose", ref, {"prepared": 1})
    else:
        room = run(
            "propose",
            ref,
            {
                "title": "Disable the new payment flow",
                "kind": "feature_flag",
                "risk": "low",
                "expected_minutes": 1,
                "changes": "flag checkout.new_payment_flow: on -> off",
            },
        )
    mitigation = room["mitigations"][-1]
    if mitigation.get("authority"):
        run("approve", ref, {"mitigation": mitigation["ref"]})
    run(
        "decide",
        ref,
        {
            "text": "Disable the new payment flow before investigating further",
            "why": "lowest-risk action that removes the suspected trigger",
            "alternatives": ["roll back the whole release", "shift eu-west traffic"],
        },
    )
    run("apply", ref, {"mitigation": mitigation["ref"]})
    run(
        "outcome",
        ref,
        {
            "mitigation": mitigation["ref"],
            "outcome": "effective",
            "note": "eu-west 5xx ratio 37% -> 0.4% within a minute",
            "before": 0.37,
            "after": 0.004,
        },
    )
    run("mitigated", ref, {"evidence": "eu-west 5xx ratio back under SLO"})
    run("confirm", ref, {"guess": "G1", "source": "5xx stopped when the flag was turned off"})
    _step("Rotation: an explicit handoff", as_json)
    run(
        "role_handoff",
        ref,
        {"role": "commander", "person": "bob", "note": "mitigated; watching for 15 minutes before resolving"},
    )
    run("role_handoff", ref, {"role": "scribe", "person": "erin", "note": "timeline is current to now"})
    run("update", ref, {"text": run("update_template", ref)["text"], "audience": "internal"})
    if not as_json:
        render.room(run("show", ref))
    _step("Resolve: impact stopped and risk controlled, both stated", as_json)
    run(
        "resolve",
        ref,
        {
            "summary": "Flag off; payment flow fixed in v2.14.1 before re-enabling",
            "impact_stopped": True,
            "risk_controlled": True,
            "final_update": "Resolved: checkout works normally again. Thank you for your patience.",
        },
    )
    final = run("show", ref)
    verified = run("verify", ref)
    if as_json:
        print(json.dumps({"incident": final, "verify": verified}, indent=2, sort_keys=True))
    else:
        render.room(final)
        render.verified(verified)
        render.console.print(f"\nNext: warroom timeline {ref} | warroom show {ref} --json")
    return dict(final)


def play_live(
    settings: Any, actor: str | None, *, as_json: bool = False, fail: Callable[..., Exception]
) -> dict[str, Any]:
    """``demo --live``: a real fault in demo-shop, measured by a real Prometheus (see demo_live)."""
    from warroom.cli.demo_live import DemoFailed
    from warroom.cli.demo_live import play as play_for_real
    from warroom.devstack import StackError, binaries_available
    from warroom.domain.shared.errors import DomainError

    available = binaries_available()
    if not available:
        raise fail(f"demo --live needs {available.reason}", 2)
    try:
        return play_for_real(settings, actor or settings.actor, as_json=as_json)
    except (DemoFailed, StackError) as exc:
        raise fail(f"demo --live: {str(exc).splitlines()[0]}") from None
    except DomainError as exc:
        raise fail(f"demo --live: {exc.message}") from None
