"""Benchmark: alert ingest through ``/hooks/alertmanager`` on SQLite and PostgreSQL.

Budgets (issue 4, DESIGN.md section 11), on this 2-core machine:

- >= 10,000 alerts/s through ``/hooks/alertmanager`` in 100-alert bodies, dedup exact;
- >= 1,000 single-alert requests/s;
- server RSS <= 200 MB under that load.

A real uvicorn serves ``warroom.server.create_app`` on 127.0.0.1 (access log off, as in
production behind a proxy). The load is a storm: ``--bodies`` bodies of 100 distinct alerts
over 21 services (2% critical on the tier-1 ``checkout``, which declares one incident and
attaches the rest), each body sent twice at once by two "Alertmanager replicas" on
separate connections, then the same alerts resolved (twice again). Then single-alert
bodies, each sent twice. Afterwards the database is checked: one row per alert, exactly one
firing and one resolved transition each, one incident with every checkout alert attached and
resolved on its timeline. The clients are ``--clients`` keep-alive connections speaking
HTTP/1.1 with pre-encoded requests (asyncio streams), so the client spends its CPU on the
other core and not in request building; httpx checks readiness and answers.

Besides wall-clock rates the server's own CPU time is read from /proc, which gives a rate
per server CPU-second that does not depend on what else runs on the machine. The same
bodies are also ingested in process (parse + ``AlertIngest``) for comparison.

    .venv/bin/python bench/ingest.py [--db sqlite|postgres|both] [--bodies 200] [--singles 4000]
                                     [--clients 8] [--max-seconds 120]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from warroom.bootstrap import App, build  # noqa: E402
from warroom.domain.alerts.formats import parse_alertmanager  # noqa: E402
from warroom.domain.alerts.policy import policy_from_config  # noqa: E402
from warroom.services.alerts.ingest import AlertIngest  # noqa: E402
from warroom.services.identity import auth  # noqa: E402
from warroom.settings import load_settings  # noqa: E402

ALERTS_BUDGET = 10_000.0
SINGLES_BUDGET = 1_000.0
RSS_BUDGET_MB = 200.0
PER_BODY = 100
SERVICES = 20
POSTGRES_ADMIN = (
    os.environ.get("WARROOM_TEST_POSTGRES_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/"
)

SERVER = """
import uvicorn
from warroom.bootstrap import build
from warroom.server import create_app
from warroom.settings import load_settings
import sys
app = create_app(build(load_settings()), with_web=False)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""

CATALOG = (
    "teams:\n  - {name: storefront}\n  - {name: sre, fallback: true}\nservices:\n"
    + "".join(
        f"  - {{name: svc{i}, team: storefront, tier: 2, matchers: ['service=\"svc{i}\"']}}\n"
        for i in range(SERVICES)
    )
    + "  - {name: checkout, team: storefront, tier: 1, matchers: ['service=\"checkout\"']}\n"
)

TEMPLATE = json.loads((ROOT / "tests/fixtures/webhooks/alertmanager_firing.json").read_text())


# --- the load ---------------------------------------------------------------------------


def alert(n: int, status: str) -> dict[str, Any]:
    base = TEMPLATE["alerts"][0]
    critical = n % 50 == 0
    service = "checkout" if critical else f"svc{n % SERVICES}"
    return base | {
        "status": status,
        "fingerprint": f"{n:016x}",
        "startsAt": "2026-11-26T22:26:25.6Z",
        "endsAt": "2026-11-26T22:41:25.6Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "labels": base["labels"]
        | {
            "service": service,
            "severity": "critical" if critical else "warning",
            "instance": f"10.0.{n // 250}.{n % 250}:9100",
            "route": f"/api/r{n % 7}",
        },
    }


def body(numbers: range | list[int], status: str) -> bytes:
    doc = copy.deepcopy(TEMPLATE)
    doc["status"] = status
    doc["alerts"] = [alert(n, status) for n in numbers]
    return json.dumps(doc, separators=(",", ":")).encode()


def request(path: str, payload: bytes, token: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Alertmanager/0.25.0\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


@dataclass
class Phase:
    name: str
    requests: int
    alerts: int
    seconds: float
    server_cpu: float
    errors: int

    @property
    def alert_rate(self) -> float:
        return self.alerts / self.seconds

    @property
    def request_rate(self) -> float:
        return self.requests / self.seconds

    def line(self, unit: str = "alerts") -> str:
        count = self.alerts if unit == "alerts" else self.requests
        per_cpu = count / self.server_cpu if self.server_cpu else float("inf")
        return (
            f"  {self.name:<34} {count:>7} {unit} in {self.seconds:6.2f} s = {count / self.seconds:8.0f} {unit}/s"
            f"  (server CPU {self.server_cpu:5.2f} s: {per_cpu:8.0f} {unit}/CPU-s){'  ERRORS ' + str(self.errors) if self.errors else ''}"
        )


async def _connection(port: int, queue: list[bytes], deadline: float, stats: dict[str, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while queue and time.monotonic() < deadline:
            writer.write(queue.pop())
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            stats["done"] += 1
            if not status_line.startswith(b"HTTP/1.1 200"):
                stats["errors"] += 1
    finally:
        writer.close()


def send(
    port: int, streams: list[list[bytes]], clients: int, max_seconds: float
) -> tuple[float, dict[str, int]]:
    """Send every stream's requests (each stream in order, over its share of connections)."""
    stats = {"done": 0, "errors": 0}

    async def main() -> float:
        deadline = time.monotonic() + max_seconds
        per_stream = max(1, clients // len(streams))
        queues = []
        for stream in streams:
            for lane in range(per_stream):
                queues.append(list(reversed(stream[lane::per_stream])))
        started = time.perf_counter()
        await asyncio.gather(*(_connection(port, q, deadline, stats) for q in queues))
        return time.perf_counter() - started

    return asyncio.run(main()), stats


# --- the server -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


@contextmanager
def server(config: Path) -> Iterator[tuple[int, int]]:
    port = free_port()
    env = os.environ | {"WARROOM_CONFIG": str(config), "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not start")
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'warroom.db'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(POSTGRES_ADMIN)
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    name = f"warroom_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(folder: Path, url: str) -> tuple[Path, App, str]:
    (folder / "catalog.yaml").write_text(CATALOG)
    config = folder / "warroom.toml"
    config.write_text(f'database_url = "{url}"\ncatalog = "catalog.yaml"\n')
    os.environ["WARROOM_CONFIG"] = str(config)
    app = build(load_settings())
    token, _ = auth.create_token(app.context, "alertmanager", "ingest")
    return config, app, token


# --- checks -----------------------------------------------------------------------------


def check(app: App, storm: range, singles: range) -> list[str]:
    """What is wrong with the stored result; empty when dedup was exact."""
    from sqlalchemy import func, select

    from warroom.storage.alert_tables import alert_transitions, alerts
    from warroom.storage.tables import incidents

    problems = []
    with app.context.uow() as uow:
        db = uow.connection  # type: ignore[attr-defined]
        rows = db.execute(select(func.count()).select_from(alerts)).scalar_one()
        firing = db.execute(select(func.count()).where(alert_transitions.c.status == "firing")).scalar_one()
        resolved = db.execute(
            select(func.count()).where(alert_transitions.c.status == "resolved")
        ).scalar_one()
        declared = db.execute(select(func.count()).where(incidents.c.status != "declaring")).scalar_one()
        events = uow.incidents.events(1) if declared else []
    expected = len(storm) + len(singles) + 1  # + the warm-up alert
    if rows != expected:
        problems.append(f"{rows} alert rows, expected {expected}")
    if (firing, resolved) != (expected, len(storm) + 1):
        problems.append(
            f"{firing} firing / {resolved} resolved transitions, expected {expected} / {len(storm) + 1}"
        )
    if declared != 1:
        problems.append(f"{declared} incidents, expected 1")
    on_checkout = sum(1 for n in storm if n % 50 == 0)
    attached = sum(1 for e in events if e.kind == "alert_attached")
    ended = sum(1 for e in events if e.kind == "alert_resolved")
    wanted = (on_checkout + sum(1 for n in singles if n % 50 == 0), on_checkout)
    if (attached, ended) != wanted:
        problems.append(
            f"{attached} attached / {ended} resolved on INC-1, expected {wanted[0]} / {wanted[1]}"
        )
    return problems


# --- the run ----------------------------------------------------------------------------


def run_http(kind: str, bodies: int, singles: int, clients: int, max_seconds: float) -> dict[str, Any]:
    distinct = bodies * PER_BODY
    with tempfile.TemporaryDirectory(prefix="warroom-bench-") as tmp, database(kind, Path(tmp)) as url:
        config, app, token = prepare(Path(tmp), url)
        path = "/hooks/alertmanager"
        chunks = [range(i * PER_BODY, (i + 1) * PER_BODY) for i in range(bodies)]
        firing_reqs = [request(path, body(c, "firing"), token) for c in chunks]
        resolved_reqs = [request(path, body(c, "resolved"), token) for c in chunks]
        single_numbers = range(distinct, distinct + singles)
        single_reqs = [request(path, body([n], "firing"), token) for n in single_numbers]
        phases: list[Phase] = []
        with server(config) as (port, pid):
            warm = httpx.post(
                f"http://127.0.0.1:{port}{path}",
                content=body([10**9 + 1], "resolved"),
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            assert warm.status_code == 200, warm.text
            for name, stream, alerts_each in (
                ("100-alert bodies, firing (x2 HA)", firing_reqs, PER_BODY),
                ("100-alert bodies, resolved (x2 HA)", resolved_reqs, PER_BODY),
                ("single-alert bodies (x2 HA)", single_reqs, 1),
            ):
                before = cpu_seconds(pid)
                seconds, stats = send(port, [stream, stream], clients, max_seconds)
                phases.append(
                    Phase(
                        name,
                        stats["done"],
                        stats["done"] * alerts_each,
                        seconds,
                        cpu_seconds(pid) - before,
                        stats["errors"] + 2 * len(stream) - stats["done"],
                    )
                )
            rss, peak = memory_mb(pid)
        problems = check(app, range(distinct), single_numbers)
        app.context.uow.args[0].dispose()  # type: ignore[attr-defined]
    return {"phases": phases, "rss": rss, "peak": peak, "problems": problems}


def run_in_process(kind: str, bodies: int) -> list[tuple[str, float, float]]:
    """Parse + ingest without HTTP: (name, alerts/s wall, alerts/CPU-s)."""
    out = []
    with tempfile.TemporaryDirectory(prefix="warroom-bench-") as tmp, database(kind, Path(tmp)) as url:
        _, app, _ = prepare(Path(tmp), url)
        ingest = AlertIngest(app.context, policy_from_config({}))
        chunks = [range(i * PER_BODY, (i + 1) * PER_BODY) for i in range(bodies)]
        for status in ("firing", "firing", "resolved"):
            raws = [body(c, status) for c in chunks]
            wall, cpu = time.perf_counter(), time.process_time()
            for raw in raws:
                ingest.ingest(parse_alertmanager(json.loads(raw)), "bench")
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            label = {"firing": "new firing", "resolved": "resolved"}[status]
            if out and status == "firing":
                label = "redelivered (dedup)"
            out.append((label, len(raws) * PER_BODY / wall, len(raws) * PER_BODY / cpu))
        app.context.uow.args[0].dispose()  # type: ignore[attr-defined]
    return out


def verdict(ok: bool) -> str:
    return "within budget" if ok else "OVER BUDGET"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--bodies", type=int, default=200, help="distinct 100-alert bodies (each sent twice)")
    parser.add_argument(
        "--singles", type=int, default=4000, help="distinct single-alert bodies (each sent twice)"
    )
    parser.add_argument("--clients", type=int, default=8, help="keep-alive connections")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="bound of each phase")
    args = parser.parse_args()
    kinds = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    failed = False
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for kind in kinds:
        print(
            f"\n== {kind}: {args.bodies} bodies x {PER_BODY} alerts, {args.singles} single alerts, "
            f"each sent twice, {args.clients} connections"
        )
        result = run_http(kind, args.bodies, args.singles, args.clients, args.max_seconds)
        storm = result["phases"][:2]
        for phase in storm:
            print(phase.line())
        singles = result["phases"][2]
        print(singles.line("requests"))
        alerts = sum(p.alerts for p in storm)
        seconds = sum(p.seconds for p in storm)
        rate = alerts / seconds
        print(
            f"  storm overall: {rate:,.0f} alerts/s (budget {ALERTS_BUDGET:,.0f}: {rate / ALERTS_BUDGET:.2f}x, "
            f"{verdict(rate >= ALERTS_BUDGET)})"
        )
        print(
            f"  single alerts: {singles.request_rate:,.0f} requests/s (budget {SINGLES_BUDGET:,.0f}: "
            f"{singles.request_rate / SINGLES_BUDGET:.2f}x, {verdict(singles.request_rate >= SINGLES_BUDGET)})"
        )
        print(
            f"  server RSS {result['rss']:.0f} MB, peak {result['peak']:.0f} MB (budget {RSS_BUDGET_MB:.0f} MB: "
            f"{verdict(result['peak'] <= RSS_BUDGET_MB)})"
        )
        errors = sum(p.errors for p in result["phases"])
        dedup = "exact" if not result["problems"] else "; ".join(result["problems"])
        print(f"  dedup: {dedup}; non-2xx answers: {errors}")
        print("  in process (parse + ingest, no HTTP):")
        for label, wall, cpu in run_in_process(kind, args.bodies):
            print(f"    {label:<22} {wall:8.0f} alerts/s  ({cpu:8.0f} alerts/CPU-s)")
        failed |= bool(result["problems"]) or errors > 0
        failed |= (
            rate < ALERTS_BUDGET or singles.request_rate < SINGLES_BUDGET or result["peak"] > RSS_BUDGET_MB
        )
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
