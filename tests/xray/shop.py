"""Spans of a small shop, built in memory: checkout → payments → adyen (an external
provider), checkout → inventory. A fault makes payments' calls to adyen time out after 5 s
and payments retry them."""

from __future__ import annotations

import random
from dataclasses import dataclass

from warroom.domain.xray.spans import KIND_CLIENT, KIND_SERVER, Span

T0_US = 1_780_000_000_000_000  # 2026-05-28


@dataclass
class Ids:
    rng: random.Random

    def trace(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def span(self) -> str:
        return f"{self.rng.getrandbits(64):016x}"


def request(ids: Ids, start_us: int, *, fault: bool, retries: int = 0) -> list[Span]:
    """One checkout request. With ``fault``, every adyen call times out after 5 s and
    payments retries ``retries`` times before failing; else everything succeeds."""
    trace = ids.trace()
    root = ids.span()
    out_pay, srv_pay, out_inv, srv_inv = ids.span(), ids.span(), ids.span(), ids.span()
    spans = [
        Span(trace, out_inv, root, "checkout", "GET /stock", KIND_CLIENT, start_us + 100, 2_000),
        Span(trace, srv_inv, out_inv, "inventory", "GET /stock", KIND_SERVER, start_us + 200, 1_500),
    ]
    calls = 1 + retries if fault else 1
    pay_us = 5_000_000 * calls + 1_000 if fault else 40_000
    t = start_us + 3_000
    spans.append(
        Span(
            trace,
            out_pay,
            root,
            "checkout",
            "POST /pay",
            KIND_CLIENT,
            t,
            pay_us,
            error=fault,
            http_status=502 if fault else 200,
        )
    )
    spans.append(
        Span(
            trace,
            srv_pay,
            out_pay,
            "payments",
            "POST /pay",
            KIND_SERVER,
            t + 100,
            pay_us - 200,
            error=fault,
            http_status=502 if fault else 200,
        )
    )
    for attempt in range(calls):
        duration = 5_000_000 if fault else 30_000
        spans.append(
            Span(trace, ids.span(), srv_pay, "payments", "POST /authorise", KIND_CLIENT,
                 t + 200 + attempt * 5_000_000, duration, error=fault, peer="adyen",
                 message="timeout" if fault else "", resend=attempt)
        )  # fmt: skip
    total = pay_us + 5_000
    spans.append(
        Span(
            trace,
            root,
            "",
            "checkout",
            "POST /checkout",
            KIND_SERVER,
            start_us,
            total,
            error=fault,
            http_status=500 if fault else 200,
        )
    )
    return spans  # fmt: skip


def shop(seed: int, requests: int, fault_share: float, start_us: int = T0_US, retries: int = 0) -> list[Span]:
    ids = Ids(random.Random(seed))
    rng = random.Random(seed + 1)
    spans: list[Span] = []
    for i in range(requests):
        spans.extend(request(ids, start_us + i * 10_000, fault=rng.random() < fault_share, retries=retries))
    return spans
