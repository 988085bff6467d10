"""The X-ray's analysis (pure): failing path, owners, retries vs timeouts, amplification,
and a property: a failure injected at one hop is found at that hop, whatever the fan-out."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from warroom.domain.xray.analysis import AnalysisPolicy
from warroom.domain.xray.graph import Hop
from warroom.domain.xray.sampling import SamplingPolicy, TraceSummary, decide, in_baseline
from warroom.domain.xray.spans import KIND_CLIENT, KIND_SERVER, Span
from warroom.domain.xray.verdict import xray

from .shop import T0_US, shop

OWNERS = {"checkout": "storefront", "payments": "payments", "inventory": "logistics"}


def test_failed_checkouts_end_in_payments_calling_adyen_with_a_timeout() -> None:
    now = shop(1, 400, fault_share=0.3, retries=2)
    baseline = shop(2, 400, fault_share=0.0, start_us=T0_US - 3_600_000_000)
    report = xray(now, baseline, now_seconds=60, baseline_seconds=60, owners=OWNERS)
    top = report.origins[0]
    assert top.hop == Hop("payments", "adyen", "POST /authorise")
    assert top.share == 1.0
    assert top.kind == "timeout"
    assert top.path == ("checkout", "payments", "adyen")
    assert report.verdict.startswith(
        "100% of failed checkout requests end in payments → adyen (timeout after 5 s); "
        "payments is owned by team payments"
    )
    edge = next(e for e in report.edges if e.hop.callee == "adyen")
    assert edge.now.timeouts > 0 and edge.now.retries > 0
    assert edge.baseline is not None and edge.baseline.per_request == 1.0
    assert edge.now.per_request > 1.5  # two retries on 30% of requests
    assert edge in report.amplified
    assert "payments calls adyen" in report.verdict and "baseline 1.0x" in report.verdict


def test_no_failures_say_so() -> None:
    spans = shop(3, 50, fault_share=0.0)
    report = xray(spans, [], now_seconds=60, baseline_seconds=60, owners=OWNERS)
    assert report.origins == ()
    assert report.verdict == "no failed checkout requests in the window (50 requests)"


def test_weights_stand_for_the_dropped_healthy_traces() -> None:
    spans = [
        Span(s.trace_id, s.span_id, s.parent_id, s.service, s.operation, s.kind, s.start_us,
             s.duration_us, s.error, s.peer, s.http_status, s.grpc_status, s.resend, s.message,
             1.0 if s.error else 10.0)
        for s in shop(4, 200, fault_share=0.2)
    ]  # fmt: skip
    report = xray(spans, [], now_seconds=10, baseline_seconds=10, owners=OWNERS)
    failed = sum(1 for s in spans if s.parent_id == "" and s.error)
    healthy = sum(1 for s in spans if s.parent_id == "" and not s.error)
    assert report.requests == failed + 10 * healthy
    pay = next(e for e in report.edges if e.hop == Hop("checkout", "payments", "POST /pay"))
    assert abs(pay.now.error_ratio - failed / (failed + 10 * healthy)) < 1e-9


def test_a_timeout_is_told_by_status_message_grpc_code_or_duration() -> None:
    policy = AnalysisPolicy(client_timeout_ms=1000)
    from warroom.domain.xray.spans import failure_kind

    base = Span("a" * 32, "b" * 16, "", "s", "op", KIND_CLIENT, 0, 10, error=True)
    assert failure_kind(base, 1_000_000) == "error"
    assert failure_kind(Span(**{**_fields(base), "http_status": 504}), 1_000_000) == "timeout"
    assert failure_kind(Span(**{**_fields(base), "grpc_status": 4}), 1_000_000) == "timeout"
    assert (
        failure_kind(Span(**{**_fields(base), "message": "context deadline exceeded"}), 1_000_000)
        == "timeout"
    )
    assert (
        failure_kind(Span(**{**_fields(base), "duration_us": 999_000}), int(policy.client_timeout_ms * 1000))
        == "timeout"
    )
    assert failure_kind(Span(**{**_fields(base), "http_status": 503}), 1_000_000) == "http 503"


def _fields(span: Span) -> dict[str, object]:
    return {name: getattr(span, name) for name in Span._fields}


def test_tail_sampling_keeps_errors_slow_traces_and_a_stable_baseline_share() -> None:
    policy = SamplingPolicy(slow_ms=1000, baseline_percent=10)
    assert decide(TraceSummary("f" * 32, True, 10), policy) == 1.0
    assert decide(TraceSummary("f" * 32, False, 2_000_000), policy) == 1.0
    rng = random.Random(5)
    ids = [f"{rng.getrandbits(128):032x}" for _ in range(20_000)]
    kept = [i for i in ids if decide(TraceSummary(i, False, 10), policy) is not None]
    assert 0.08 < len(kept) / len(ids) < 0.12
    assert all(decide(TraceSummary(i, False, 10), policy) == 10.0 for i in kept)
    assert all(in_baseline(i, 10) for i in kept)


# --- property: a failure injected at one hop is found at that hop ---------------------


@st.composite
def call_trees(draw: st.DrawFn) -> tuple[list[Span], Hop]:
    """A request fanning out over services (random depth and fan-out, retried sibling calls),
    one downstream call failing; the failure propagates to the root."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    trace = f"{rng.getrandbits(128):032x}"
    spans: list[Span] = []
    servers: list[tuple[str, str, int]] = []  # (span id, service, depth)
    names = iter(f"svc{i}" for i in range(1000))
    root_id = f"{rng.getrandbits(64):016x}"
    servers.append((root_id, "edge", 0))
    calls: list[tuple[str, str, str, str, str]] = []  # client id, server id, caller, callee, parent server id
    frontier = [(root_id, "edge", 0)]
    max_depth = draw(st.integers(1, 4))
    while frontier:
        parent_id, service, depth = frontier.pop()
        if depth >= max_depth:
            continue
        for _ in range(draw(st.integers(0, 4))):
            callee = next(names)
            client_id, server_id = f"{rng.getrandbits(64):016x}", f"{rng.getrandbits(64):016x}"
            calls.append((client_id, server_id, service, callee, parent_id))
            frontier.append((server_id, callee, depth + 1))
    if not calls:
        client_id, server_id = f"{rng.getrandbits(64):016x}", f"{rng.getrandbits(64):016x}"
        calls.append((client_id, server_id, "edge", "svc_only", root_id))
    failing = calls[draw(st.integers(0, len(calls) - 1))]
    # the failing call's ancestors fail too (the error propagates up)
    parent_of = {server_id: (client_id, parent) for client_id, server_id, _, _, parent in calls}
    failed_spans = {failing[0], failing[1]}
    cursor = failing[4]
    while cursor in parent_of:
        client_id, parent = parent_of[cursor]
        failed_spans |= {cursor, client_id}
        cursor = parent
    failed_spans.add(root_id)
    for client_id, server_id, caller, callee, parent in calls:
        spans.append(
            Span(
                trace,
                client_id,
                parent,
                caller,
                f"call {callee}",
                KIND_CLIENT,
                10,
                5,
                error=client_id in failed_spans,
            )
        )
        spans.append(
            Span(
                trace,
                server_id,
                client_id,
                callee,
                f"serve {callee}",
                KIND_SERVER,
                11,
                4,
                error=server_id in failed_spans,
            )
        )
        if rng.random() < 0.3:  # a retried sibling call that succeeded
            spans.append(
                Span(
                    trace, f"{rng.getrandbits(64):016x}", parent, caller, f"call {callee}", KIND_CLIENT, 20, 5
                )
            )
    spans.append(Span(trace, root_id, "", "edge", "GET /", KIND_SERVER, 0, 100, error=True))
    rng.shuffle(spans)
    return spans, Hop(failing[2], failing[3], f"serve {failing[3]}")  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(call_trees())
def test_a_failure_injected_at_one_hop_is_found_at_that_hop(case: tuple[list[Span], Hop]) -> None:
    spans, hop = case
    report = xray(spans, [], now_seconds=1, baseline_seconds=1, owners={})
    assert report.origins[0].hop == hop
    assert report.origins[0].path[-2:] == (hop.caller, hop.callee)
