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
import random
import sys
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ROUTES = ("/api/checkout", "/api/search", "/api/cart")
REGIONS = ("us-east", "eu-west", "ap-south")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# Typical latency per route; each request scatters around it (log-normal).
TYPICAL_SECONDS = {"/api/checkout": 0.12, "/api/search": 0.04, "/api/cart": 0.02}
DEFAULT_FLAG = "new_payment_flow"


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

    def serve(self, route: str, region: str) -> tuple[int, float]:
        """Count one request and return its (status, simulated duration in seconds)."""
        with self._lock:
            ratio, extra_latency = self.base_error_ratio, 0.0
            for fault in self.faults.values():
                if fault.covers(route, region) and (fault.flag is None or self.flags.get(fault.flag)):
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
            return int(status), duration

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


def generate_load(shop: Shop, rate: float, stop: threading.Event) -> None:
    """Serve `rate` requests a second, round-robin over every route and region."""
    combos = itertools.cycle([(route, region) for route in ROUTES for region in REGIONS])
    owed, last = 0.0, time.monotonic()
    while not stop.wait(0.05):
        now = time.monotonic()
        owed += rate * (now - last)
        last = now
        while owed >= 1.0:
            shop.serve(*next(combos))
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
                status, _ = shop.serve(url.path, region)
                self._json(status, {"ok": status == 200})
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
    args = parser.parse_args(argv)

    shop = Shop(base_error_ratio=args.base_error_ratio, seed=args.seed)
    stop = threading.Event()
    threading.Thread(target=generate_load, args=(shop, args.rate, stop), daemon=True).start()
    server = ThreadingHTTPServer((args.host, args.port), make_handler(shop))
    print(f"demo-shop: listening on http://{args.host}:{server.server_port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()


if __name__ == "__main__":
    main()
