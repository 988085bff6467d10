"""The probe's use cases on a real SQLite file with an honest fake MetricsSource."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.impact.fakes import (
    ERRORS,
    LATENCY,
    REGIONS,
    T0,
    FakeClock,
    FakeMetrics,
    regional,
    shop_catalog,
    traffic,
)
from warroom.domain.impact.probe import ProbePolicy
from warroom.domain.shared.errors import InvalidTransition, ValidationError
from warroom.services import operations as ops
from warroom.services.impact import mitigation_checks as probe
from warroom.services.shared.context import Context

POLICY = ProbePolicy(
    baseline_window=timedelta(minutes=5),
    baseline_search=timedelta(hours=1),
    trend_lookback=timedelta(minutes=5),
    verdict_window=timedelta(minutes=1),
    resolve_window=timedelta(minutes=3),
    timeout=1.0,
)
START = T0 - timedelta(minutes=10)  # the fault begins
FLAG_OFF = T0 + timedelta(minutes=1)  # when the demo's mitigation removes it


def eu_west_fault(*, until: datetime | None = None, level: float = 0.4) -> Callable[[str], Any]:
    def region(name: str) -> Callable[[datetime], float]:
        def value(at: datetime) -> float:
            broken = name == "eu-west" and at >= START and (until is None or at < until)
            return level if broken else 0.002

        return value

    return region


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def metrics() -> FakeMetrics:
    return FakeMetrics()


def probe_context(app: Any, metrics: FakeMetrics) -> Context:
    context: Context = dataclasses.replace(
        app.context, metrics=metrics, probe=POLICY, load_catalog=shop_catalog
    )
    return context


@pytest.fixture
def ctx(sqlite_url: str, build_app: Callable[..., Any], clock: FakeClock, metrics: FakeMetrics) -> Context:
    return probe_context(build_app(sqlite_url, clock=clock), metrics)


def serve(metrics: FakeMetrics, errors: Callable[[str], Any]) -> None:
    regional(metrics, ERRORS, {r: errors(r) for r in REGIONS})
    regional(metrics, LATENCY, {r: (lambda at: 0.12) for r in REGIONS})
    traffic(metrics)


def declare(ctx: Context, **extra: Any) -> str:
    body = {"title": "shop failing in Europe", "services": ["shop"], "impact_started_at": START.isoformat()}
    room = ops.declare(ctx, "alice", body | extra)
    return str(room["id"])


def kinds(ctx: Context, ref: str) -> list[str]:
    return [e["kind"] for e in ops.timeline(ctx, ref)]


# --- triage ---------------------------------------------------------------------------------


def test_triage_records_the_measurement_on_the_timeline_with_its_numbers(
    ctx: Context, metrics: FakeMetrics
) -> None:
    serve(metrics, eu_west_fault())
    ref = declare(ctx)

    view = ops.triage(ctx, "alice", ref, {})

    assert view["recorded"] and view["status"] == "measured"
    event = ops.timeline(ctx, ref)[-1]
    assert event["kind"] == "impact_measured"
    payload = event["payload"]
    [errors] = [i for i in payload["services"][0]["indicators"] if i["name"] == "error_ratio"]
    assert errors["current"] == pytest.approx(0.1347, abs=1e-3)
    assert errors["baseline"]["value"] == pytest.approx(0.002)
    assert errors["blast_radius"][0]["sentence"] == "region=eu-west 40% errors; us-east, ap-south at baseline"
    # eu-west carries a third of the traffic: 39.8 points above baseline on a third.
    assert payload["customer_share"] == pytest.approx(0.398 / 3, abs=1e-3)
    assert payload["financial_per_hour"] == pytest.approx(0.1327 * 600 * 60, rel=1e-2)
    assert payload["severity"] == "SEV2"


def test_a_measurement_and_a_verdict_round_trip_through_sqlite_and_postgresql(
    database_url: str, build_app: Callable[..., Any], clock: FakeClock, metrics: FakeMetrics
) -> None:
    ctx = probe_context(build_app(database_url, clock=clock), metrics)
    serve(metrics, eu_west_fault(until=FLAG_OFF))
    ref = declare(ctx)
    measured = ops.triage(ctx, "alice", ref, {})
    mitigation = apply_flag(ctx, ref, clock)
    clock.at = FLAG_OFF + timedelta(minutes=2)
    ops.mitigation_check(ctx, "alice", ref, {"mitigation": mitigation})

    stored = [e["payload"] for e in ops.timeline(ctx, ref) if e["kind"] == "impact_measured"]

    assert stored[0] == {k: measured[k] for k in stored[0]}  # every number exactly as measured
    assert ops.verify(ctx, ref)["ok"]  # the hash chain holds over the stored JSON


def test_a_measured_severity_that_differs_from_the_declared_one_is_suggested_not_applied(
    ctx: Context, metrics: FakeMetrics
) -> None:
    serve(metrics, eu_west_fault())
    ref = declare(ctx)  # no impact stated: the policy says SEV4

    view = ops.triage(ctx, "alice", ref, {})
    room = ops.show(ctx, ref)

    assert view["suggestion"] == (
        f"measured impact suggests SEV2, declared SEV4: consider warroom severity {ref} SEV2 --why ..."
    )
    assert room["severity"] == "SEV4"
    assert "measured_severity_differs" in [n["code"] for n in room["nudges"]]


def test_a_blind_probe_says_so_in_one_line_once_and_the_room_still_shows(
    ctx: Context, metrics: FakeMetrics
) -> None:
    serve(metrics, eu_west_fault())
    ref = declare(ctx)
    ops.triage(ctx, "alice", ref, {})
    metrics.down = "refused the connection ([Errno 111] Connection refused)"

    first = ops.triage(ctx, "alice", ref, {})
    again = ops.triage(ctx, "alice", ref, {})
    room = ops.show(ctx, ref)

    assert first["status"] == "unavailable"
    assert first["summary"] == (
        "impact probe blind: Prometheus at http://prometheus.test:9090 refused the connection "
        "([Errno 111] Connection refused)"
    )
    assert "\n" not in first["summary"]
    assert first["recorded"] and not again["recorded"]  # one record per distinct failure
    assert kinds(ctx, ref).count("impact_measured") == 2
    assert room["measured"]["status"] == "unavailable"
    assert room["measured"]["last_good"]["severity"] == "SEV2"  # the charts keep their data
    # 3 indicators x (whole + by region), the error ratio's onset looked at closer (whole +
    # by region, at 1 s); blind: asked once
    assert len(metrics.calls) == 6 + 2 + 1 + 1


def test_a_slow_prometheus_never_holds_triage_past_the_timeout(ctx: Context, metrics: FakeMetrics) -> None:
    serve(metrics, eu_west_fault())
    metrics.delay = 0.4  # each of the 6 queries would take 0.4 s: 2.4 s in all
    ref = declare(ctx)

    started = time.monotonic()
    view = ops.triage(ctx, "alice", ref, {})
    took = time.monotonic() - started

    assert took < POLICY.timeout + 0.3
    assert view["status"] == "unavailable"
    assert "within" in view["summary"]


def test_a_refused_query_blinds_that_indicator_only(ctx: Context, metrics: FakeMetrics) -> None:
    regional(metrics, ERRORS, {r: eu_west_fault()(r) for r in REGIONS})
    traffic(metrics)  # the latency query is unknown to this Prometheus

    view = ops.triage(ctx, "alice", declare(ctx), {})

    assert view["status"] == "partial"
    [latency] = [i for i in view["services"][0]["indicators"] if i["name"] == "latency_p95"]
    assert latency["status"] == "error"
    assert "refused the query (HTTP 400 bad_data)" in latency["error"]
    assert view["severity"] == "SEV2"


def test_without_indicators_or_a_prometheus_the_probe_is_off_and_records_nothing(
    ctx: Context, metrics: FakeMetrics
) -> None:
    bare = dataclasses.replace(ctx, load_catalog=lambda: shop_catalog(indicators=()))
    ref = declare(bare)
    unconfigured = dataclasses.replace(ctx, metrics=FakeMetrics(configured=False))

    off = ops.triage(bare, "alice", ref, {})
    blind = ops.triage(unconfigured, "alice", ref, {})

    assert off["status"] == "not_configured"
    assert off["summary"] == "impact probe off: shop: no indicators in the catalog"
    assert blind["summary"].startswith("impact probe off: shop: no Prometheus configured")
    assert "impact_measured" not in kinds(ctx, ref)


def test_a_service_with_its_own_prometheus_is_read_there(ctx: Context, metrics: FakeMetrics) -> None:
    serve(metrics, eu_west_fault())
    metrics.configured = False  # no default Prometheus
    own = dataclasses.replace(ctx, load_catalog=lambda: shop_catalog(url="http://shop-prometheus:9090"))

    view = ops.triage(own, "alice", declare(own), {})

    assert view["status"] == "measured"


def test_the_last_measurement_is_shown_without_asking_prometheus(ctx: Context, metrics: FakeMetrics) -> None:
    serve(metrics, eu_west_fault())
    ref = declare(ctx)
    assert ops.triage_show(ctx, ref)["status"] == "never"
    ops.triage(ctx, "alice", ref, {})
    asked = len(metrics.calls)

    shown = ops.triage_show(ctx, ref)

    assert shown["status"] == "measured" and len(metrics.calls) == asked


# --- mitigation checks ----------------------------------------------------------------------


def apply_flag(ctx: Context, ref: str, clock: FakeClock) -> str:
    room = ops.propose(
        ctx,
        "alice",
        ref,
        {"title": "Turn off new_payment_flow", "kind": "feature_flag", "risk": "low", "expected_minutes": 2},
    )
    mitigation = str(room["mitigations"][-1]["ref"])
    clock.at = FLAG_OFF
    ops.apply(ctx, "alice", ref, {"mitigation": mitigation})
    return mitigation


@pytest.mark.parametrize(
    ("fault", "verdict"),
    [(eu_west_fault(until=FLAG_OFF), "effective"), (eu_west_fault(), "ineffective")],
    ids=["flag-caused", "not-flag-caused"],
)
def test_a_mitigation_check_records_the_outcome_with_before_and_after(
    ctx: Context, metrics: FakeMetrics, clock: FakeClock, fault: Callable[[str], Any], verdict: str
) -> None:
    serve(metrics, fault)
    ref = declare(ctx)
    mitigation = apply_flag(ctx, ref, clock)
    clock.at = FLAG_OFF + timedelta(minutes=2)

    view = ops.mitigation_check(ctx, "impact-probe", ref, {"mitigation": mitigation})

    [check] = view["checks"]
    assert check["verdict"] == verdict
    event = ops.timeline(ctx, ref)[-1]
    assert event["kind"] == "mitigation_outcome_recorded"
    assert event["payload"]["outcome"] == verdict
    assert event["payload"]["before"] == pytest.approx(0.4)
    assert event["payload"]["after"] == pytest.approx(0.002 if verdict == "effective" else 0.4)
    assert event["payload"]["checked_by"] == "impact probe"
    assert event["payload"]["note"].startswith("shop error_ratio region=eu-west 40% -> ")
    assert kinds(ctx, ref)[-2] == "impact_measured"  # the re-measurement refreshes the room
    assert ops.show(ctx, ref)["mitigations"][-1]["state"] == verdict


def test_a_check_before_the_expected_time_to_effect_says_it_was_early(
    ctx: Context, metrics: FakeMetrics, clock: FakeClock
) -> None:
    serve(metrics, eu_west_fault(until=FLAG_OFF))
    ref = declare(ctx)
    mitigation = apply_flag(ctx, ref, clock)
    clock.at = FLAG_OFF + timedelta(minutes=1)

    view = ops.mitigation_check(ctx, "alice", ref, {"mitigation": mitigation})

    assert view["checks"][0]["verdict"] == "effective"
    assert ops.timeline(ctx, ref)[-1]["payload"]["note"].startswith(
        "checked early (its effect is expected by "
    )


def test_a_blind_check_records_nothing(ctx: Context, metrics: FakeMetrics, clock: FakeClock) -> None:
    serve(metrics, eu_west_fault(until=FLAG_OFF))
    ref = declare(ctx)
    mitigation = apply_flag(ctx, ref, clock)
    metrics.down = "did not answer within 1 s"
    clock.at = FLAG_OFF + timedelta(minutes=2)

    view = ops.mitigation_check(ctx, "alice", ref, {"mitigation": mitigation})

    assert view["status"] == "unavailable" and not view["recorded"]
    assert view["summary"].startswith("mitigation check not done: impact probe blind: ")
    assert kinds(ctx, ref)[-1] == "mitigation_applied"


def test_checking_a_mitigation_that_was_not_applied_is_refused(ctx: Context, metrics: FakeMetrics) -> None:
    serve(metrics, eu_west_fault())
    ref = declare(ctx)
    ops.propose(ctx, "alice", ref, {"title": "Roll back", "kind": "rollback"})

    with pytest.raises(InvalidTransition, match="M1 is proposed; apply it before checking it"):
        ops.mitigation_check(ctx, "alice", ref, {"mitigation": "M1"})


def test_the_scheduled_job_checks_each_mitigation_once_after_its_time_to_effect(
    ctx: Context, metrics: FakeMetrics, clock: FakeClock
) -> None:
    serve(metrics, eu_west_fault(until=FLAG_OFF))
    ref = declare(ctx)
    apply_flag(ctx, ref, clock)

    clock.at = FLAG_OFF + timedelta(minutes=1)
    assert probe.run_due_checks(ctx, clock.now()) == 0  # not due yet
    clock.at = FLAG_OFF + timedelta(minutes=2, seconds=5)
    assert probe.run_due_checks(ctx, clock.now()) == 1
    assert probe.run_due_checks(ctx, clock.now()) == 0  # judged: not checked again

    outcome = ops.timeline(ctx, ref)[-1]
    assert (outcome["kind"], outcome["actor"], outcome["payload"]["outcome"]) == (
        "mitigation_outcome_recorded",
        "impact-probe",
        "effective",
    )


# --- resolve -------------------------------------------------------------------------------

RESOLVE = {"summary": "flag off; fix ships next", "impact_stopped": True, "risk_controlled": True}


def test_resolve_is_refused_while_the_indicators_are_off_baseline(
    ctx: Context, metrics: FakeMetrics, clock: FakeClock
) -> None:
    serve(metrics, eu_west_fault(until=FLAG_OFF))
    ref = declare(ctx)
    clock.at = FLAG_OFF + timedelta(minutes=2)  # recovered 2 minutes ago; the window is 3

    with pytest.raises(InvalidTransition, match=r"not been back at baseline for 3m 00s: shop error_ratio"):
        ops.resolve(ctx, "alice", ref, RESOLVE)
    assert ops.show(ctx, ref)["status"] == "triage"


def test_forcing_resolve_needs_a_reason_which_is_recorded(
    ctx: Context, metrics: FakeMetrics, clock: FakeClock
) -> None:
    serve(metrics, eu_west_fault())
    ref = declare(ctx)

    with pytest.raises(ValidationError, match="--force needs --why"):
        ops.resolve(ctx, "alice", ref, RESOLVE | {"force": True})
    room = ops.resolve(
        ctx, "alice", ref, RESOLVE | {"force": True, "why": "eu-west is drained; its errors reach nobody"}
    )

    assert room["status"] == "resolved"
    resolved = ops.timeline(ctx, ref)[-1]["payload"]
    assert resolved["forced_why"] == "eu-west is drained; its errors reach nobody"
    assert resolved["probe_check"]["back_at_baseline"] is False
    assert resolved["probe_check"]["problems"][0].startswith("shop error_ratio was 13%")


def test_resolve_passes_once_the_indicators_held_their_baseline_for_the_window(
    ctx: Context, metrics: FakeMetrics, clock: FakeClock
) -> None:
    serve(metrics, eu_west_fault(until=FLAG_OFF))
    ref = declare(ctx)
    clock.at = FLAG_OFF + timedelta(minutes=4)

    room = ops.resolve(ctx, "alice", ref, RESOLVE)

    assert room["status"] == "resolved"
    payload = ops.timeline(ctx, ref)[-1]["payload"]
    assert "forced_why" not in payload
    assert payload["probe_check"] == {"back_at_baseline": True, "window_seconds": 180.0, "problems": []}
    assert kinds(ctx, ref)[-2:] == ["impact_measured", "incident_resolved"]


def test_a_blind_probe_cannot_vouch_for_a_resolve(ctx: Context, metrics: FakeMetrics) -> None:
    ref = declare(ctx)
    metrics.down = "refused the connection (refused)"

    with pytest.raises(InvalidTransition, match=r"cannot check the indicators: Prometheus at .* refused"):
        ops.resolve(ctx, "alice", ref, RESOLVE)
    room = ops.resolve(
        ctx, "alice", ref, RESOLVE | {"force": True, "why": "Prometheus is down; users confirm"}
    )
    assert room["status"] == "resolved"


def test_resolve_without_a_probe_is_as_before(ctx: Context) -> None:
    bare = dataclasses.replace(ctx, load_catalog=lambda: shop_catalog(indicators=()))
    ref = declare(bare)

    assert ops.resolve(bare, "alice", ref, RESOLVE)["status"] == "resolved"


def test_a_missing_statement_is_refused_before_any_query(ctx: Context, metrics: FakeMetrics) -> None:
    ref = declare(ctx)

    with pytest.raises(ValidationError, match="impact_stopped"):
        ops.resolve(ctx, "alice", ref, RESOLVE | {"impact_stopped": False})
    assert metrics.calls == []


def test_the_job_runner_of_the_server_runs_the_due_checks(
    ctx: Context, metrics: FakeMetrics, clock: FakeClock, sqlite_url: str
) -> None:
    from warroom.bootstrap import App, build_jobs, build_notify
    from warroom.integrations.notify_config import make_notifier
    from warroom.services.comms.jobs import JobRunner
    from warroom.settings import Settings

    serve(metrics, eu_west_fault(until=FLAG_OFF))
    ref = declare(ctx)
    apply_flag(ctx, ref, clock)
    app = App(settings=Settings(database_url=sqlite_url), context=ctx)
    notify = build_notify(app.settings)
    notifier, close = make_notifier(notify)
    try:
        [job] = [j for j in build_jobs(app, notify, notifier) if j.name == "check_mitigations"]
    finally:
        close()
    runner = JobRunner(ctx, [job], worker="test")

    clock.at = FLAG_OFF + timedelta(minutes=2, seconds=5)
    assert runner.tick() == {"check_mitigations": 1}
    assert ops.show(ctx, ref)["mitigations"][-1]["state"] == "effective"


def test_triage_lists_what_changed_on_the_service_before_the_impact(
    ctx: Context, metrics: FakeMetrics
) -> None:
    serve(metrics, eu_west_fault())
    change = {"service": "shop", "kind": "flag", "summary": "new_payment_flow on", "at": START.isoformat()}
    ops.add_change(ctx, "alice", change)

    view = ops.triage(ctx, "alice", declare(ctx), {})

    assert [(c["service"], c["kind"], c["summary"]) for c in view["changes"]] == [
        ("shop", "flag", "new_payment_flow on")
    ]


def test_the_room_draws_a_chart_per_measured_indicator(
    ctx: Context, metrics: FakeMetrics, build_app: Callable[..., Any], sqlite_url: str
) -> None:
    from fastapi.testclient import TestClient

    from tests.web.conftest import log_in, web_app
    from warroom.bootstrap import App

    serve(metrics, eu_west_fault())
    ref = declare(ctx)
    ops.triage(ctx, "alice", ref, {})
    app = App(settings=build_app(sqlite_url).settings, context=ctx)
    with TestClient(web_app(app), follow_redirects=False) as client:
        log_in(client, app, "viewer", "victor")
        page = client.get(f"/incidents/{ref}")
        fragment = client.get(f"/incidents/{ref}/fragment")

    assert page.status_code == 200
    assert page.text.count('<svg class="impact-chart"') >= 2  # error ratio and latency
    assert "region=eu-west 40% errors" in page.text
    assert '<svg class="impact-chart"' in fragment.text  # the live room refreshes the charts too


# --- a mitigation's own verification query ------------------------------------------------

CHECKOUT = "sum(checkout_errors) / sum(checkout_requests)"


def apply_verified(ctx: Context, ref: str, clock: FakeClock, verification: str) -> str:
    body = {"title": "Turn off new_payment_flow", "kind": "feature_flag", "risk": "low"}
    room = ops.propose(ctx, "alice", ref, body | {"expected_minutes": 2, "verification": verification})
    mitigation = str(room["mitigations"][-1]["ref"])
    clock.at = FLAG_OFF
    ops.apply(ctx, "alice", ref, {"mitigation": mitigation})
    return mitigation


@pytest.mark.parametrize(
    ("verification", "after", "verdict", "condition"),
    [
        (f"{CHECKOUT} < 0.01", 0.004, "effective", "healthy below 0.01"),
        (f"{CHECKOUT} < 0.01", 0.2, "ineffective", "healthy below 0.01"),
        (f"{CHECKOUT} < 0.01", 0.5, "worse", "healthy below 0.01"),
        (CHECKOUT, 0.1, "effective", "lower is better"),  # cut by 67% (policy: half)
        (CHECKOUT, 0.25, "ineffective", "lower is better"),
        (f"1 - {CHECKOUT} > 0.99", 0.004, "effective", "healthy above 0.99"),
    ],
)
def test_a_mitigations_own_verification_query_decides_its_verdict(
    ctx: Context,
    metrics: FakeMetrics,
    clock: FakeClock,
    verification: str,
    after: float,
    verdict: str,
    condition: str,
) -> None:
    # The service indicators say the flag fixed everything; the playbook's own check decides.
    serve(metrics, eu_west_fault(until=FLAG_OFF))
    value = lambda at: 0.3 if at < FLAG_OFF else after  # noqa: E731
    metrics.add(CHECKOUT, {}, value)
    metrics.add(f"1 - {CHECKOUT}", {}, lambda at: 1 - value(at))
    ref = declare(ctx)
    mitigation = apply_verified(ctx, ref, clock, verification)
    clock.at = FLAG_OFF + timedelta(minutes=2)

    [check] = ops.mitigation_check(ctx, "impact-probe", ref, {"mitigation": mitigation})["checks"]

    assert check["verdict"] == verdict, check["note"]
    assert check["note"].startswith("verification query ") and condition in check["note"]
    recorded = check["details"]["verification"]
    assert recorded["query"] == verification.rsplit(" <", 1)[0].rsplit(" >", 1)[0]
    assert recorded["verdict"] == verdict and recorded["condition"] == condition
    flip = (lambda v: 1 - v) if verification.startswith("1 -") else (lambda v: v)
    assert check["before"] == pytest.approx(flip(0.3)) and check["after"] == pytest.approx(flip(after))
    assert ops.timeline(ctx, ref)[-1]["payload"]["probe"]["verification"]["verdict"] == verdict


def test_a_verification_query_that_cannot_be_read_leaves_the_verdict_to_the_indicators(
    ctx: Context, metrics: FakeMetrics, clock: FakeClock
) -> None:
    serve(metrics, eu_west_fault(until=FLAG_OFF))
    metrics.add("by_region", {"region": "eu-west"}, lambda at: 0.1)
    metrics.add("by_region", {"region": "us-east"}, lambda at: 0.1)
    ref = declare(ctx)
    for query, problem in (
        ("no_such_metric < 0.01", "refused the query"),
        ("by_region < 0.01", "it returned 2 series; aggregate it to one"),
    ):
        mitigation = apply_verified(ctx, ref, clock, query)
        clock.at = FLAG_OFF + timedelta(minutes=2)
        [check] = ops.mitigation_check(ctx, "impact-probe", ref, {"mitigation": mitigation})["checks"]
        assert check["verdict"] == "effective"  # the indicators: eu-west back at 0.2%
        assert "its verification query could not be read" in check["note"] and problem in check["note"]
        assert check["details"]["verification"]["error"]


def test_the_verification_condition_is_read_off_the_query() -> None:
    from warroom.domain.impact.checks import Verification

    assert Verification.parse("sum(x)\n  / sum(y) <= 0.05") == Verification("sum(x) / sum(y)", 0.05, True)
    assert Verification.parse("avail >= 99.9") == Verification("avail", 99.9, False)
    assert Verification.parse('rate(x{code=~"5.."}[5m])') == Verification('rate(x{code=~"5.."}[5m])')
    assert Verification.parse("a > b") == Verification("a > b")  # no number: a query, not a condition
    assert Verification.parse("x < bool 1") == Verification("x < bool 1")
