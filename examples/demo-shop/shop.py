"""demo-shop: a pretend web shop that makes its own traffic and can be broken on purpose.

It exists so that warroom's impact probe, alert ingest and mitigation checks can be
shown and tested against a real Prometheus. Standard library only.

    python examples/demo-shop/shop.py --port 8099

Endpoints:

    GET    /metrics                     Prometheus text exposition (format 0.0.4)
    GET    /healthz                     "ok"
    GET    /api/checkout?region=eu-west one request, counted like the generated ones
           (also /api/search, /api/cart)
    GET    /fault                       the injected faults, as JSON
    POST   /fault?region=eu-west&route=/api/checkout&error_ratio=0.4
           [&flag=new_payment_flow][&latency_seconds=0.5]
                                        inject a fault; region/route omitted = all
    DELETE /fault                       clear every fault
    GET    /flags                       feature flags, as JSON
    POST   /flags/new_payment_flow?enabled=false

With `--otlp-endpoint` (its bearer token in `DEMO_SHOP_OTLP_TOKEN`) every checkout is also a trace, exported with
the OpenTelemetry SDK over OTLP/HTTP: demo-shop → payments → the payment provider
(`adyen`). A request an injected fault fails is, in its trace, payments' call to the
provider timing out after `PROVIDER_TIMEOUT_S` and being retried `RETRIES` times; a
checkout the fault covers but lets through needed two retries. Without the flag the shop
stays standard library only (the SDK is imported only when tracing is on).

A fault is "caused by" a feature flag (by default `new_payment_flow`; pass `flag=` to
tie it to none): injecting it turns the flag on, and it fails requests only while the
flag stays on. Turning the flag off is the prepared mitigation; turning it back on
brings the fault back, as a real rollback-of-a-rollback would.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import sys
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

ROUTES = ("/api/checkout", "/api/search", "/api/cart")
REGIONS = ("us-east", "eu-west", "ap-south")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# Typical latency per route; each request scatters around it (log-normal).
TYPICAL_SECONDS = {"/api/checkout": 0.12, "/api/search": 0.04, "/api/cart": 0.02}
DEFAULT_FLAG = "new_payment_flow"
# The traces' shape: payments calls the provider with this client timeout and retries a
# timed-out call this many times before it gives up.
PROVIDER = "adyen"
PROVIDER_TIMEOUT_S = 2.0
RETRIES = 4


class Served(NamedTuple):
    """One request as served: status code, simulated duration, and whether a fault covered it."""

    status: int
    duration: float
    faulted: bool


@dataclass(frozen=True)
class Fault:
    """Fail `error_ratio` of the requests in a region/route (None = every one)."""

    region: str | None
    route: str | None
    error_ratio: float
    flag: str | None
    latency_seconds: float = 0.0

    def covers(self, route: str, region: str) -> bool:
        return self.route in (None, route) and self.region in (None, region)


class Shop:
    """The shop's state: counters, histograms, faults and flags, behind one lock."""

    def __init__(self, *, base_error_ratio: float, seed: int) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.base_error_ratio = base_error_ratio
        self.flags: dict[str, bool] = {DEFAULT_FLAG: True}
        self.faults: dict[tuple[str | None, str | None], Fault] = {}
        # Start every series at zero so rate() sees the first error as an increase.
        self._requests: dict[tuple[str, str, str], int] = {
            (route, region, status): 0 for route in ROUTES for region in REGIONS for status in ("200", "500")
        }
        combos = [(route, region) for route in ROUTES for region in REGIONS]
        self._buckets: dict[tuple[str, str], list[int]] = {key: [0] * len(BUCKETS) for key in combos}
        self._sums: dict[tuple[str, str], float] = dict.fromkeys(combos, 0.0)
        # Errors are spread evenly rather than drawn at random, so a 40% fault reads as
        # 40% in every scrape window and tests can use tight thresholds.
        self._error_debt: dict[tuple[str, str], float] = defaultdict(float)

    def serve(self, route: str, region: str) -> Served:
        """Count one request and return how it was served (its duration is simulated)."""
        with self._lock:
            ratio, extra_latency, faulted = self.base_error_ratio, 0.0, False
            for fault in self.faults.values():
                if fault.covers(route, region) and (fault.flag is None or self.flags.get(fault.flag)):
                    faulted = True
                    ratio, extra_latency = (
                        ratio + fault.error_ratio,
                        max(extra_latency, fault.latency_seconds),
                    )
            key = (route, region)
            self._error_debt[key] += min(ratio, 1.0)
            failed = self._error_debt[key] >= 1.0
            if failed:
                self._error_debt[key] -= 1.0
            status = "500" if failed else "200"
            duration = TYPICAL_SECONDS[route] * math.exp(self._rng.gauss(0.0, 0.4))
            duration += extra_latency if failed else 0.0
            self._requests[(route, region, status)] += 1
            self._sums[key] += duration
            buckets = self._buckets[key]
            for i, bound in enumerate(BUCKETS):
                if duration <= bound:
                    buckets[i] += 1
            return Served(int(status), duration, faulted)

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self.faults[(fault.region, fault.route)] = fault
            if fault.flag is not None:
                self.flags[fault.flag] = True

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def set_flag(self, name: str, enabled: bool) -> None:
        with self._lock:
            self.flags[name] = enabled

    def state(self) -> dict[str, object]:
        with self._lock:
            return {"faults": [asdict(f) for f in self.faults.values()], "flags": dict(self.flags)}

    def exposition(self) -> str:
        """The metrics in Prometheus text format 0.0.4."""
        with self._lock:
            lines = [
                "# HELP demo_http_requests_total Requests served, by route, region and status code.",
                "# TYPE demo_http_requests_total counter",
            ]
            for (route, region, status), count in sorted(self._requests.items()):
                lines.append(
                    f"demo_http_requests_total{_labels(route=route, region=region, status=status)} {count}"
                )
            lines += [
                "# HELP demo_http_request_duration_seconds Time to serve a request.",
                "# TYPE demo_http_request_duration_seconds histogram",
            ]
            name = "demo_http_request_duration_seconds"
            for (route, region), buckets in sorted(self._buckets.items()):
                total = sum(c for (r, g, _), c in self._requests.items() if (r, g) == (route, region))
                for bound, count in zip(BUCKETS, buckets, strict=True):
                    lines.append(
                        f"{name}_bucket{_labels(route=route, region=region, le=f'{bound:g}')} {count}"
                    )
                lines.append(f"{name}_bucket{_labels(route=route, region=region, le='+Inf')} {total}")
                lines.append(
                    f"{name}_sum{_labels(route=route, region=region)} {self._sums[(route, region)]!r}"
                )
                lines.append(f"{name}_count{_labels(route=route, region=region)} {total}")
            lines += [
                "# HELP demo_feature_flag_enabled 1 while a feature flag is on.",
                "# TYPE demo_feature_flag_enabled gauge",
            ]
            for flag, enabled in sorted(self.flags.items()):
                lines.append(f"demo_feature_flag_enabled{_labels(flag=flag)} {int(enabled)}")
            return "\n".join(lines) + "\n"


def _labels(**labels: str) -> str:
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in labels.items()) + "}"


class Tracing:
    """Checkout traces, exported by the OpenTelemetry SDK to an OTLP/HTTP endpoint.

    Each service is its own resource (``service.name`` demo-shop and payments), so a
    trace crosses services as it would between two processes. Durations are simulated,
    like the metrics': the spans carry explicit start and end times, so a trace can
    show a 2 s provider timeout while the shop answers at once.
    """

    def __init__(self, endpoint: str, token: str | None) -> None:
        # Imported here: without tracing the shop needs nothing but the standard library.
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        headers = {"Authorization": f"Bearer {token}"} if token else None
        self._trace = trace
        self.providers: list[Any] = []
        self.tracers: dict[str, Any] = {}
        for service in ("demo-shop", "payments"):
            provider = TracerProvider(resource=Resource.create({"service.name": service}))
            exporter = OTLPSpanExporter(endpoint=endpoint, headers=headers, timeout=5)
            provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=1000))
            self.providers.append(provider)
            self.tracers[service] = provider.get_tracer("demo-shop")

    def checkout(self, region: str, served: Served) -> None:
        """The trace of one checkout served just now."""
        from opentelemetry.trace import SpanKind, Status, StatusCode

        trace, shop, payments = self._trace, self.tracers["demo-shop"], self.tracers["payments"]
        failed = served.status >= 500
        # Provider calls: all time out when the request failed; two time out and the
        # second retry succeeds when a fault covered a request that got through.
        attempts = RETRIES + 1 if failed and served.faulted else 3 if served.faulted else 1
        timeouts = attempts if failed and served.faulted else attempts - 1
        call_s = max(0.005, served.duration * 0.5)
        total_s = timeouts * PROVIDER_TIMEOUT_S + (attempts - timeouts) * call_s + served.duration * 0.5
        # The trace starts as the request is counted (its metrics' moment) and ends its
        # simulated duration later, so a window of traces and one of metrics line up.
        start = time.time_ns()
        end = start + int(total_s * 1e9)
        error = Status(StatusCode.ERROR, "payment failed") if failed else None
        route = {"http.route": "/api/checkout", "http.request.method": "GET", "cloud.region": region}
        root = shop.start_span("GET /api/checkout", kind=SpanKind.SERVER, start_time=start, attributes=route)
        in_root = trace.set_span_in_context(root)
        call = shop.start_span("POST /pay", in_root, kind=SpanKind.CLIENT, start_time=start + 1000)
        serve = payments.start_span(
            "POST /pay", trace.set_span_in_context(call), kind=SpanKind.SERVER, start_time=start + 2000
        )
        at = start + 3000
        for attempt in range(attempts):
            timed_out = attempt < timeouts
            took = int((PROVIDER_TIMEOUT_S if timed_out else call_s) * 1e9)
            attributes: dict[str, Any] = {
                "peer.service": PROVIDER,
                "server.address": "checkout-live.adyen.com",
            }
            if attempt:
                attributes["http.request.resend_count"] = attempt
            if timed_out:
                attributes["error.type"] = "timeout"
            else:
                attributes["http.response.status_code"] = 200
            out = payments.start_span(
                "POST /authorise",
                trace.set_span_in_context(serve),
                kind=SpanKind.CLIENT,
                start_time=at,
                attributes=attributes,
            )
            if timed_out:
                out.set_status(
                    Status(StatusCode.ERROR, f"context deadline exceeded after {PROVIDER_TIMEOUT_S:g} s")
                )
            out.end(end_time=at + took)
            at += took
        status = {"http.response.status_code": served.status}
        for span in (serve, call, root):
            span.set_attributes(status)
            if error is not None:
                span.set_status(error)
        serve.end(end_time=max(at, end - 2000))
        call.end(end_time=max(at, end - 1000))
        root.end(end_time=max(at, end))

    def shutdown(self) -> None:
        for provider in self.providers:
            provider.shutdown()


def generate_load(shop: Shop, rate: float, stop: threading.Event, tracing: Tracing | None = None) -> None:
    """Serve `rate` requests a second, round-robin over every route and region."""
    combos = itertools.cycle([(route, region) for route in ROUTES for region in REGIONS])
    owed, last = 0.0, time.monotonic()
    while not stop.wait(0.05):
        now = time.monotonic()
        owed += rate * (now - last)
        last = now
        while owed >= 1.0:
            route, region = next(combos)
            served = shop.serve(route, region)
            if tracing is not None and route == "/api/checkout":
                tracing.checkout(region, served)
            owed -= 1.0


class BadRequest(Exception):
    """The request names something that does not exist or a value out of range."""


def _one(query: dict[str, list[str]], name: str, default: str | None = None) -> str | None:
    values = query.get(name)
    return values[-1] if values else default


def parse_fault(query: dict[str, list[str]]) -> Fault:
    region, route = _one(query, "region") or None, _one(query, "route") or None
    if region is not None and region not in REGIONS:
        raise BadRequest(f"region must be one of {', '.join(REGIONS)}, got {region!r}")
    if route is not None and route not in ROUTES:
        raise BadRequest(f"route must be one of {', '.join(ROUTES)}, got {route!r}")
    try:
        ratio = float(_one(query, "error_ratio", "1") or "1")
        latency = float(_one(query, "latency_seconds", "0") or "0")
    except ValueError as exc:
        raise BadRequest(f"error_ratio and latency_seconds must be numbers ({exc})") from exc
    if not 0.0 <= ratio <= 1.0:
        raise BadRequest(f"error_ratio must be between 0 and 1, got {ratio}")
    if not 0.0 <= latency <= 60.0:
        raise BadRequest(f"latency_seconds must be between 0 and 60, got {latency}")
    flag = _one(query, "flag", DEFAULT_FLAG) or None
    return Fault(region, route, ratio, flag, latency)


def make_handler(shop: Shop) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "demo-shop/1"

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/metrics":
                self._send(200, shop.exposition(), "text/plain; version=0.0.4; charset=utf-8")
            elif url.path == "/healthz":
                self._send(200, "ok\n", "text/plain")
            elif url.path in ("/fault", "/flags"):
                self._json(200, shop.state())
            elif url.path in ROUTES:
                region = _one(parse_qs(url.query), "region", REGIONS[0]) or REGIONS[0]
                if region not in REGIONS:
                    return self._json(400, {"error": f"unknown region {region!r}"})
                served = shop.serve(url.path, region)
                self._json(served.status, {"ok": served.status == 200})
            else:
                self._json(404, {"error": f"no such path {url.path}"})

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query, keep_blank_values=True)
            try:
                if url.path == "/fault":
                    fault = parse_fault(query)
                    shop.inject(fault)
                    self._log_change(f"fault injected: {fault}")
                elif url.path.startswith("/flags/") and len(url.path) > len("/flags/"):
                    enabled = (_one(query, "enabled") or "").lower()
                    if enabled not in ("true", "false"):
                        raise BadRequest(f"enabled must be true or false, got {enabled!r}")
                    shop.set_flag(url.path.removeprefix("/flags/"), enabled == "true")
                    self._log_change(f"flag {url.path.removeprefix('/flags/')} set to {enabled}")
                else:
                    return self._json(404, {"error": f"no such path {url.path}"})
            except BadRequest as exc:
                return self._json(400, {"error": str(exc)})
            self._json(200, shop.state())

        def do_DELETE(self) -> None:
            if urlsplit(self.path).path != "/fault":
                return self._json(404, {"error": f"no such path {self.path}"})
            shop.clear_faults()
            self._log_change("faults cleared")
            self._json(200, shop.state())

        def _json(self, status: int, body: object) -> None:
            self._send(status, json.dumps(body) + "\n", "application/json")

        def _send(self, status: int, text: str, content_type: str) -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _log_change(self, what: str) -> None:
            print(f"demo-shop: {what}", file=sys.stderr, flush=True)

        def log_message(self, format: str, *args: object) -> None:
            pass  # Prometheus scrapes every second; access logs would drown the changes.

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--rate", type=float, default=180.0, help="generated requests per second")
    parser.add_argument("--base-error-ratio", type=float, default=0.002)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--otlp-endpoint",
        help="export checkout traces here over OTLP/HTTP, e.g. http://127.0.0.1:8080/v1/traces",
    )
    args = parser.parse_args(argv)

    shop = Shop(base_error_ratio=args.base_error_ratio, seed=args.seed)
    stop = threading.Event()
    # The bearer token for the endpoint (warroom: an ingest token for the source otlp)
    # comes from the environment, never the command line.
    token = os.environ.get("DEMO_SHOP_OTLP_TOKEN")
    tracing = Tracing(args.otlp_endpoint, token) if args.otlp_endpoint else None
    threading.Thread(target=generate_load, args=(shop, args.rate, stop, tracing), daemon=True).start()
    server = ThreadingHTTPServer((args.host, args.port), make_handler(shop))
    print(f"demo-shop: listening on http://{args.host}:{server.server_port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
        if tracing is not None:
            tracing.shutdown()


if __name__ == "__main__":
    main()
