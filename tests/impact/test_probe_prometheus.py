"""The impact probe end to end: a real Prometheus scraping demo-shop, warroom on SQLite.

The scenarios run on the session's shared stack (``promstack``: starting one costs
seconds, and each scenario needs a healthy stretch first, which the previous test may
have left); the last one stops Prometheus, so it starts a stack of its own.
The probe uses the live demo's windows (``DEMO_PROBE``): 1 s steps, 5 s baselines.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.promstack import PromStack, SharedStack, binaries_available
from warroom.cli.demo_live import DEMO_PROBE, live_context
from warroom.domain.shared.errors import InvalidTransition
from warroom.services import operations as ops
from warroom.services.shared.context import Context

pytestmark = [pytest.mark.prometheus, pytest.mark.timeout(150)]

_available = binaries_available()
if not _available and os.environ.get("WARROOM_REQUIRE_ALL") != "1":
    pytest.skip(_available.reason, allow_module_level=True)

# A rate over 5 s, sampled every second: a change shows fully after 5 s; the verdict
# window (3 s) then needs 3 s more before it holds only the new state.
SHOWS = 6.0
CLEARS = 9.0


class Shop:
    """The session's shared stack, and waits for its rates to forget the last change."""

    def __init__(self, shared: SharedStack) -> None:
        self.shared = shared
        self.stack = shared.stack

    def healthy_stretch(self, window: timedelta = DEMO_PROBE.baseline_window) -> None:
        """Wait until the last change has left every rate, then ``window`` more."""
        self.shared.wait_until(self.shared.settled_at(clears=CLEARS) + window.total_seconds())

    def inject(self, **fault: Any) -> None:
        self.stack.inject_fault(region="eu-west", route="/api/checkout", error_ratio=0.4, **fault)

    def flag_off(self) -> None:
        self.stack.set_flag("new_payment_flow", enabled=False)

    def wait_for_plateau(self, timeout: float = 20) -> None:
        """Wait until Prometheus has eu-west's error ratio (the injected 40% of one route in
        three) at its full level, then for one more scrape of it to count in the 5 s rates."""
        query = (
            'sum(rate(demo_http_requests_total{service="demo-shop",region="eu-west",status=~"5.."}[5s]))'
            ' / sum(rate(demo_http_requests_total{service="demo-shop",region="eu-west"}[5s]))'
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = httpx.get(
                f"{self.stack.prometheus_url}/api/v1/query", params={"query": query}, timeout=5
            )
            result = answer.json()["data"]["result"]
            if result and float(result[0]["value"][1]) >= 0.4 / 3 - 0.015:
                time.sleep(1.0)
                return
            time.sleep(0.5)
        raise AssertionError(f"eu-west's error ratio did not reach its fault level in {timeout} s")


@pytest.fixture
def shop(promstack: SharedStack) -> Shop:
    return Shop(promstack)


def probe_context(build_app: Callable[..., Any], database_url: str, prometheus_url: str) -> Context:
    context: Context = live_context(build_app(database_url).context, prometheus_url)
    return context


@pytest.fixture
def ctx(shop: Shop, sqlite_url: str, build_app: Callable[..., Any]) -> Iterator[Context]:
    context = probe_context(build_app, sqlite_url, shop.stack.prometheus_url)
    yield context
    context.metrics.close()  # type: ignore[union-attr]


def declare(ctx: Context) -> str:
    room = ops.declare(
        ctx,
        "alice",
        {
            "title": "checkout failing in Europe",
            "services": ["demo-shop"],
            "impact_started_at": datetime.now(UTC).isoformat(),
        },
    )
    return str(room["id"])


def apply_flag_mitigation(ctx: Context, ref: str) -> str:
    room = ops.propose(ctx, "alice", ref, {"prepared": 1})
    mitigation = room["mitigations"][-1]
    assert mitigation["title"] == "Turn off the new_payment_flow feature flag"
    ops.apply(ctx, "alice", ref, {"mitigation": mitigation["ref"]})
    return str(mitigation["ref"])


def indicator(view: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [i for s in view["services"] for i in s["indicators"] if i["name"] == name]
    return found


def test_a_fault_in_one_region_is_measured_localized_and_cleared_by_the_flag(
    shop: Shop, ctx: Context
) -> None:
    shop.healthy_stretch()
    ref = declare(ctx)
    shop.inject()
    time.sleep(SHOWS)

    view = ops.triage(ctx, "alice", ref, {})

    # On the timeline, with its numbers.
    event = ops.timeline(ctx, ref)[-1]
    assert event["kind"] == "impact_measured" and event["payload"] == {k: view[k] for k in event["payload"]}
    errors = indicator(view, "error_ratio")
    assert errors["baseline"]["source"] == "healthy_window"
    assert errors["baseline"]["value"] < 0.02
    by_region, by_route = errors["blast_radius"]
    assert [d["slice"] for d in by_region["deviating"]] == ["region=eu-west"]
    assert by_region["localized"] and sorted(by_region["at_baseline"]) == [
        "region=ap-south",
        "region=us-east",
    ]
    assert by_region["deviating"][0]["current"] == pytest.approx(0.4 / 3, abs=0.04)
    assert [d["slice"] for d in by_route["deviating"]] == ["route=/api/checkout"]
    assert indicator(view, "latency_p95")["deviating"] is False
    # 40% of one slice in nine fails about 4.4% of all requests.
    assert view["customer_share"] == pytest.approx(0.4 / 9, abs=0.012)
    assert view["financial_per_hour"] == pytest.approx(0.4 / 9 * 500 * 60, rel=0.3)
    assert view["severity"] in ("SEV2", "SEV3")
    assert "region=eu-west" in view["summary"]
    # The rates are still climbing to the fault's level (a 5 s rate sampled every second).
    assert errors["trend"]["direction"] == "growing", errors["trend"]

    mitigation = apply_flag_mitigation(ctx, ref)
    shop.flag_off()
    time.sleep(CLEARS)
    check = ops.mitigation_check(ctx, "alice", ref, {"mitigation": mitigation})

    [verdict] = check["checks"]
    assert verdict["verdict"] == "effective", verdict["note"]
    # Decided by the playbook's own verification query: checkout's error ratio below 5%.
    verification = verdict["details"]["verification"]
    assert verification["condition"] == "healthy below 0.05" and verification["error"] is None
    assert verification["before"] == pytest.approx(0.4 / 3, abs=0.04) and verification["after"] < 0.05
    assert verdict["note"].startswith("verification query ")
    outcome = ops.timeline(ctx, ref)[-1]["payload"]
    assert outcome["outcome"] == "effective"
    # Judged on the worst slice before: eu-west, where one route of three fails 40%.
    assert outcome["before"] == pytest.approx(0.4 / 3, abs=0.04)
    assert outcome["after"] < 0.05
    assert outcome["probe"]["target"]["slice"] in ("region=eu-west", "route=/api/checkout")
    # Back down from the plateau: every slice at baseline, the whole service recovering.
    recovered = indicator(ops.triage(ctx, "alice", ref, {}), "error_ratio")["trend"]
    assert (recovered["of"], recovered["direction"]) == ("all", "recovering"), recovered

    # Recovered a moment ago: not yet back at baseline for the resolve window.
    body = {"summary": "flag off", "impact_stopped": True, "risk_controlled": True}
    with pytest.raises(InvalidTransition, match=r"not been back at baseline for 8s: demo-shop error_ratio"):
        ops.resolve(ctx, "alice", ref, body)
    resolved = ops.resolve(
        ctx, "alice", ref, body | {"force": True, "why": "flag off, verified by the probe"}
    )
    assert resolved["status"] == "resolved"
    assert resolved["resolution"]["forced_why"] == "flag off, verified by the probe"


def test_a_flag_that_did_not_cause_the_fault_is_judged_ineffective(shop: Shop, ctx: Context) -> None:
    shop.healthy_stretch()
    ref = declare(ctx)
    shop.inject(flag=None)
    time.sleep(SHOWS)
    # "Ineffective" compares the fault at its plateau before and after; on a loaded machine
    # the scrapes lag and the rate may still be climbing after SHOWS (then it reads "worse").
    shop.wait_for_plateau()
    mitigation = apply_flag_mitigation(ctx, ref)
    shop.flag_off()
    time.sleep(CLEARS)

    check = ops.mitigation_check(ctx, "alice", ref, {"mitigation": mitigation})

    [verdict] = check["checks"]
    assert verdict["verdict"] == "ineffective", verdict["note"]
    assert verdict["after"] == pytest.approx(0.4 / 3, abs=0.04)
    assert verdict["details"]["verification"]["verdict"] == "ineffective"
    assert ops.show(ctx, ref)["mitigations"][-1]["state"] == "ineffective"
    # The fault has held at its level for about ten seconds of the probe's 15 s lookback:
    # a plateau, read as stable since the rates reached it (one line would say growing).
    plateau = indicator(ops.triage(ctx, "alice", ref, {}), "error_ratio")["trend"]
    assert plateau["of"] in ("region=eu-west", "route=/api/checkout")
    assert plateau["direction"] == "stable", plateau
    assert plateau["reason"].startswith("flat since"), plateau


def _first_bad_sample(shop: Shop, since: datetime) -> datetime:
    """When Prometheus first scraped a 5xx of eu-west's checkout after ``since``: the first
    raw sample (not an evaluation) in which the error counter rose."""
    series = (
        'demo_http_requests_total{service="demo-shop",region="eu-west",route="/api/checkout",status=~"5.."}'
    )
    answer = httpx.get(
        f"{shop.stack.prometheus_url}/api/v1/query", params={"query": f"{series}[3m]"}, timeout=5
    )
    found: list[datetime] = []
    for item in answer.json()["data"]["result"]:
        samples = [(float(t), float(v)) for t, v in item["values"]]
        before = [v for t, v in samples if t < since.timestamp()]
        last = before[-1] if before else 0.0
        rose = next((t for t, v in samples if t >= since.timestamp() and v > last), None)
        if rose is not None:
            found.append(datetime.fromtimestamp(rose, UTC))
    assert found, "Prometheus scraped no 5xx after the fault"
    return min(found)


def _fired(shop: Shop, since: datetime, timeout: float = 40) -> tuple[datetime, datetime]:
    """The rule's eu-west alert that went active after ``since`` (an earlier test's may still
    be listed): Prometheus' own ``activeAt``, and the ``startsAt`` Alertmanager holds, which
    warroom records as ``detected_at`` (the rule fires 10 s after it went active)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rules = httpx.get(f"{shop.stack.prometheus_url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
        active = [
            datetime.fromisoformat(a["activeAt"].replace("Z", "+00:00"))
            for a in rules
            if a["labels"].get("region") == "eu-west" and a.get("activeAt")
        ]
        held = [
            datetime.fromisoformat(a["startsAt"].replace("Z", "+00:00"))
            for a in shop.stack.alerts("DemoHighErrorRatio")
            if a["labels"].get("region") == "eu-west"
        ]
        fresh = [at for at in active if at >= since]
        starts = [at for at in held if at >= since]
        if fresh and starts:
            return min(fresh), min(starts)
        time.sleep(0.2)
    raise AssertionError(f"the rule's alert did not reach Alertmanager within {timeout:g} s")


def test_left_slo_at_is_found_at_the_resolution_of_the_data_before_detection(
    shop: Shop, ctx: Context
) -> None:
    # A 5 s step on data scraped and evaluated every second: the step must not decide when
    # the impact began (issue 13: it read as detection itself). Baselines of three steps.
    policy = dataclasses.replace(DEMO_PROBE, step=timedelta(seconds=5), baseline_window=timedelta(seconds=15))
    coarse = dataclasses.replace(ctx, probe=policy)
    shop.healthy_stretch(window=timedelta(seconds=16))  # a healthy coarse window
    began = datetime.now(UTC)
    shop.inject(flag=None)
    active, detected = _fired(shop, began)
    room = ops.declare(
        coarse,
        "alice",
        {"title": "checkout failing", "services": ["demo-shop"], "detected_at": detected.isoformat()},
    )
    time.sleep(SHOWS)

    view = ops.triage(coarse, "alice", str(room["id"]), {})

    assert view["impact_start_from"] == "detected_at"
    left = datetime.fromisoformat(view["left_slo_at"])
    first_bad = _first_bad_sample(shop, began)
    # Never a step after detection: at most the probe's 1 s resolution (the rule may fire
    # between two grid points, e.g. detected 16:09:48.24, first bad grid point 16:09:49).
    assert left <= detected + timedelta(seconds=1), (left, detected)
    # Where Prometheus' own rule found it, to the probe's 1 s grid plus one scrape (not a
    # step later): the rule evaluates off the grid (e.g. at :08.6), and a 5 s rate over a
    # ratio near the 5% threshold can cross it at the next grid point but one under load
    # (CI saw 1.4 s). A step late would be 5 s.
    assert left <= active + timedelta(seconds=2), (left, active)
    # Seconds after the first 5xx sample, not a step: a 5 s rate over a slice passes 5% one
    # to three scrapes (1 s each) after the first failing one (seen: 1.0 to 2.2 s).
    assert first_bad - timedelta(seconds=1) <= left <= first_bad + timedelta(seconds=3), (left, first_bad)


@pytest.fixture
def lone(sqlite_url: str, build_app: Callable[..., Any]) -> Iterator[tuple[PromStack, Context]]:
    """A stack of its own, for a test that stops its Prometheus, and a context reading it
    (no data needed: the test freezes Prometheus at once)."""
    with PromStack(scraped=False) as stack:
        context = probe_context(build_app, sqlite_url, stack.prometheus_url)
        yield stack, context
        context.metrics.close()  # type: ignore[union-attr]


def test_prometheus_frozen_then_stopped_mid_incident_degrades_in_one_line(
    lone: tuple[PromStack, Context],
) -> None:
    stack, ctx = lone
    ref = declare(ctx)
    body = {"summary": "done", "impact_stopped": True, "risk_controlled": True}

    stack.pause_prometheus()
    try:
        started = time.monotonic()
        slow = ops.triage(ctx, "alice", ref, {})
        took = time.monotonic() - started
    finally:
        stack.resume_prometheus()
    assert took < DEMO_PROBE.timeout + 0.5
    assert slow["status"] == "unavailable"
    assert slow["summary"].startswith(
        f"impact probe blind: Prometheus at {stack.prometheus_url} did not answer"
    )

    stack.stop_prometheus()
    started = time.monotonic()
    down = ops.triage(ctx, "alice", ref, {})
    assert time.monotonic() - started < 1.0
    assert down["summary"].startswith(f"impact probe blind: Prometheus at {stack.prometheus_url} refused")
    assert "\n" not in down["summary"]

    # Everything else keeps working: the room shows, notes land, resolve says why it cannot vouch.
    room = ops.show(ctx, ref)
    assert room["measured"]["status"] == "unavailable"
    ops.note(ctx, "alice", ref, {"text": "Prometheus is down; checking by hand"})
    with pytest.raises(InvalidTransition, match=r"cannot check the indicators: Prometheus at .* refused"):
        ops.resolve(ctx, "alice", ref, body)
    forced = ops.resolve(ctx, "alice", ref, body | {"force": True, "why": "users confirm checkout works"})
    assert forced["status"] == "resolved"
