"""Benchmark: the public status page under load, from a real uvicorn server.

Budget (issue 17): >= 2,000 requests/s for ``GET /status`` on this machine (2 shared
cores). Setup writes a catalog of 12 components in 4 groups and 40 published incidents
over the last 90 days (each with three public updates), on SQLite. A uvicorn server runs
in its own process on 127.0.0.1; an httpx.AsyncClient then keeps ``--concurrency``
requests in flight for ``--seconds`` and stops by itself. Every answer must be a 200
with the page's body. Halfway through, one public update is posted through the API, and
the run checks that the page showed it (the cached rendering was invalidated).

    .venv/bin/python bench/statuspage_bench.py [--seconds 5] [--concurrency 32] [--path /status]

With ApacheBench installed (`apt-get install apache2-utils`) the budget is judged on its
figure: a Python client on two cores measures itself (about 150 requests/s even against
a bare ASGI app), not the server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from warroom import bootstrap
from warroom.services import operations as ops
from warroom.services.identity import auth
from warroom.settings import Settings

BUDGET_RPS = 2000.0
SERVER = """
import sys, uvicorn
from warroom.bootstrap import build
from warroom.server import create_app
from warroom.settings import Settings
from pathlib import Path
app = create_app(build(Settings(database_url=sys.argv[1], catalog_path=Path(sys.argv[3]))))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


# The ceiling on this machine at this moment: a bare ASGI app on the same uvicorn,
# answering the same number of bytes, under the same load (on a machine shared with
# other work, the budget's ratio alone does not say whether warroom or the machine is slow).
BARE = """
import sys, uvicorn
body = b"x" * int(sys.argv[2])
headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
async def app(scope, receive, send):
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(folder: Path) -> tuple[str, Path]:
    groups = ("Shopping", "Browsing", "Accounts", "Platform")
    lines = ["teams: [{name: web}]", "services:"]
    names = [f"svc-{i}" for i in range(12)]
    for i, name in enumerate(names):
        lines.append(
            f"  - {{name: {name}, team: web, status_page: {{name: Component {i}, group: {groups[i % 4]}}}}}"
        )
    catalog = folder / "catalog.yaml"
    catalog.write_text("\n".join(lines) + "\n")
    url = f"sqlite:///{folder / 'bench.db'}"
    now = datetime.now(UTC)
    clock = Clock(now - timedelta(days=89))
    app = bootstrap.build(Settings(database_url=url, catalog_path=catalog), clock=clock)
    ctx = app.context
    for n in range(40):
        clock.at = now - timedelta(days=89 - 2 * n, hours=n % 7)
        ref = str(
            ops.declare(
                ctx,
                "pager",
                {"title": f"t{n}", "services": [names[n % 12]], "customer_impact": f"{5 + n % 30}%"},
            )["id"]
        )
        for step in range(3):
            clock.at += timedelta(minutes=20)
            ops.update(ctx, "comms", ref, {"text": f"Update {step} on incident {n}.", "audience": "public"})
        clock.at += timedelta(minutes=30)
        if n < 38:
            ops.resolve(
                ctx,
                "a",
                ref,
                {"summary": "ok", "impact_stopped": True, "risk_controlled": True, "final_update": "Fixed."},
            )
    return url, catalog


async def load(
    base: str, path: str, seconds: float, concurrency: int, token: str
) -> tuple[int, int, float, bool]:
    done = failed = 0
    saw_update = False
    stop_at = time.perf_counter() + seconds
    posted = asyncio.Event()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10.0) as client:

        async def worker() -> None:
            nonlocal done, failed, saw_update
            while time.perf_counter() < stop_at:
                answer = await client.get(path)
                if answer.status_code == 200 and answer.content:
                    done += 1
                    if posted.is_set() and (token is None or b"Posted during the run." in answer.content):
                        saw_update = True
                else:
                    failed += 1

        async def publish() -> None:
            await asyncio.sleep(seconds / 3)
            if token is None:
                posted.set()
                return
            answer = await client.post(
                "/api/v1/incidents/INC-40/updates",
                json={"text": "Posted during the run.", "audience": "public"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 200, answer.text
            posted.set()

        started = time.perf_counter()
        await asyncio.gather(publish(), *(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return done, failed, elapsed, saw_update


def ab_rps(url: str, seconds: float, concurrency: int) -> float | None:
    """Requests/s measured by ApacheBench (a C client: it leaves the CPU to the server,
    where a Python client on these two cores measures mostly itself); None without ``ab``."""
    import re
    import shutil

    if shutil.which("ab") is None:
        return None
    out = subprocess.run(
        ["ab", "-q", "-k", "-c", str(concurrency), "-t", str(seconds), "-n", "1000000", url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=False,
    ).stdout
    found = re.search(r"Requests per second:\s+([\d.]+)", out)
    failed = re.search(r"Failed requests:\s+(\d+)", out)
    if found is None or (failed is not None and int(failed.group(1))):
        return None
    return float(found.group(1))


def wait_up(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"no answer from {url}")


def bare_ceiling(size: int, seconds: float, concurrency: int) -> float:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", BARE, str(port), str(size)])
    try:
        wait_up(f"http://127.0.0.1:{port}/")
        done, _, elapsed, _ = asyncio.run(load(f"http://127.0.0.1:{port}", "/", seconds, concurrency, None))
    finally:
        server.terminate()
        server.wait(timeout=10)
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--path", default="/status")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url, catalog = seed(folder)
        token = auth.create_token(
            bootstrap.build(Settings(database_url=url, catalog_path=catalog)).context, "bench", "responder"
        )[0]
        port = free_port()
        env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
        server = subprocess.Popen([sys.executable, "-c", SERVER, url, str(port), str(catalog)], env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_up(base + args.path)
            size = len(httpx.get(base + args.path).content)
            done, failed, elapsed, saw = asyncio.run(
                load(base, args.path, args.seconds, args.concurrency, token)
            )
            native = ab_rps(base + args.path, args.seconds, args.concurrency)
        finally:
            server.terminate()
            server.wait(timeout=10)
    rps = done / elapsed
    ceiling = bare_ceiling(size, args.seconds, args.concurrency)
    if native is not None:
        print(f"ApacheBench (keep-alive, concurrency {args.concurrency}): {native:,.0f} requests/s")
        rps_budget = native
    else:
        print(
            "ApacheBench not installed (apt-get install apache2-utils): the Python client's figure is judged"
        )
        rps_budget = rps
    print(
        f"GET {args.path} ({size} bytes): {done} requests in {elapsed:.2f} s, {failed} failed, concurrency {args.concurrency}"
    )
    print(f"throughput (httpx client): {rps:,.0f} requests/s")
    print(
        f"budget >= {BUDGET_RPS:,.0f} requests/s: measured {rps_budget:,.0f}, ratio {rps_budget / BUDGET_RPS:.2f}"
    )
    print(
        f"a bare ASGI app on the same uvicorn, same bytes and load: {ceiling:,.0f} requests/s"
        f" (warroom at {rps / ceiling:.0%} of it; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    print(f"the public update posted mid-run showed on the page: {'yes' if saw else 'NO'}")
    if failed or not saw or rps_budget < BUDGET_RPS:
        sys.exit(1)


if __name__ == "__main__":
    main()
