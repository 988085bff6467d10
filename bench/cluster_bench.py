"""Benchmark: alert ingest with 1, 2 and 3 replicas behind HAProxy, and with several
server processes sharing one port (``warroom serve --workers N``), on one PostgreSQL.

For each setup it sends ``--bodies`` Alertmanager bodies of 100 distinct alerts over
``--clients`` keep-alive connections (bench/ingest.py's client) and prints alerts/s, the
server processes' CPU ms per alert (from /proc, all processes of the setup), PostgreSQL's
CPU ms per alert (the backends of the benchmark's database) and the connections the
setup held open. While each setup runs it also samples what the benchmark database's
PostgreSQL sessions are doing (``pg_stat_activity`` every ``--sample-ms``, default 25, from
a connection of its own) and how idle the machine's cores are (/proc/stat), which says what
saturates first: busy sessions, the per-service ingest locks, the servers (sessions idle in
a transaction wait for their process), or WAL flushes. Alertmanager 0.25 itself takes the same alerts through its
``/api/v2/alerts`` in the same batches, before the setups and after them, as the
yardstick (each ratio is to the mean of its two runs): the ratio says whether the
cluster keeps up with what an Alertmanager can be sent.

The replicas are real ``warroom serve`` processes (access log off, jobs off: a worker
runs them) on 127.0.0.1; HAProxy runs deploy/haproxy.cfg with this run's ports.

    .venv/bin/python bench/cluster_bench.py [--bodies 150] [--clients 8] [--max-seconds 60]
                                            [--sample-ms 25]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import ingest  # noqa: E402  (bench/ingest.py: the load, the client, /proc readings)
from tests.cluster.harness import haproxy_config  # noqa: E402

WARROOM = str(Path(sys.executable).with_name("warroom"))
PER_BODY = ingest.PER_BODY


@dataclass
class Result:
    name: str
    alerts: int
    seconds: float
    server_cpu: float
    postgres_cpu: float
    connections: int
    errors: int
    reconnects: int = 0
    closed: int = 0  # connections the server closed after an answer (balancing its processes)
    sessions: dict[str, float] = field(default_factory=dict)  # mean sessions per state
    idle: float | None = None  # the machine's idle share of its cores while it ran

    @property
    def rate(self) -> float:
        return self.alerts / self.seconds

    def line(self, yardstick: float | None) -> str:
        ratio = f"  {self.rate / yardstick:4.2f}x AM" if yardstick else ""
        server = f"{1000 * self.server_cpu / self.alerts:6.3f}"
        pg = f"{1000 * self.postgres_cpu / self.alerts:6.3f}" if self.postgres_cpu else "     -"
        return (
            f"  {self.name:<34} {self.rate:8.0f} alerts/s  server {server} CPU ms/alert"
            f"  PostgreSQL {pg} CPU ms/alert  connections {self.connections:3d}{ratio}"
            + (f"  ({self.errors} answers not 200, sent again)" if self.errors else "")
            + (f"  ({self.reconnects} reconnects)" if self.reconnects else "")
            + (f"  ({self.closed} connections closed by the server)" if self.closed else "")
            + self.states_line()
        )

    def states_line(self) -> str:
        if not self.sessions and self.idle is None:
            return ""
        parts = [f"{name} {mean:.2f}" for name, mean in self.sessions.items()]
        idle = f"; cores idle {100 * self.idle:.0f}%" if self.idle is not None else ""
        return f"\n      PostgreSQL sessions (mean): {', '.join(parts) or 'not sampled'}{idle}"


# What a session is doing, from pg_stat_activity's state and wait event.
STATES = (
    "running",
    "on the service locks",
    "on other locks",
    "WAL flush",
    "other I/O",
    "waiting for the server",
)


def session_state(state: str | None, wait_type: str | None, wait_event: str | None) -> str | None:
    """The :data:`STATES` entry of one session (None: idle outside a transaction)."""
    if state == "idle":
        return None
    if wait_type == "Lock":
        return "on the service locks" if wait_event == "advisory" else "on other locks"
    if wait_type == "LWLock":
        return "on other locks"
    if wait_type == "IO":
        return "WAL flush" if (wait_event or "").startswith("WAL") else "other I/O"
    if (state and state.startswith("idle in transaction")) or wait_type == "Client":
        return "waiting for the server"
    return "running"


class SessionSampler:
    """Samples the sessions of ``database`` every ``interval`` seconds on a thread of its own
    while in use; :meth:`means` is the mean number of sessions in each of :data:`STATES`."""

    def __init__(self, database: str, interval: float) -> None:
        self.database = database
        self.interval = interval
        self.counts = dict.fromkeys(STATES, 0)
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="session-sampler", daemon=True)

    def __enter__(self) -> SessionSampler:
        if self.interval > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        import psycopg

        sql = (
            "SELECT state, wait_event_type, wait_event FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()"
        )
        with psycopg.connect(_admin(), autocommit=True) as conn:
            while not self._stop.wait(self.interval):
                for row in conn.execute(sql, (self.database,)):
                    if (state := session_state(*row)) is not None:
                        self.counts[state] += 1
                self.samples += 1

    def means(self) -> dict[str, float]:
        if not self.samples:
            return {}
        return {name: count / self.samples for name, count in self.counts.items()}


def cores_idle() -> tuple[int, int]:
    """The machine's idle and iowait ticks and all its ticks so far, from /proc/stat."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return ticks[3] + ticks[4], sum(ticks)


async def _connection(port: int, queue: list[bytes], deadline: float, stats: dict[str, int]) -> None:
    """bench/ingest.py's keep-alive client, reconnecting when the balancer closes the
    connection (the request goes out again: ingest is idempotent)."""
    import asyncio

    while queue and time.monotonic() < deadline:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue and time.monotonic() < deadline:
                payload = queue.pop()
                try:
                    writer.write(payload)
                    await writer.drain()
                    status_line = await reader.readline()
                    if not status_line:
                        raise ConnectionResetError("closed")
                    length = 0
                    closing = False
                    while (line := await reader.readline()) not in (b"\r\n", b""):
                        lowered = line.lower()
                        if lowered.startswith(b"content-length:"):
                            length = int(line.split(b":", 1)[1])
                        elif lowered.startswith(b"connection:") and b"close" in lowered:
                            closing = True
                    await reader.readexactly(length)
                except (ConnectionError, asyncio.IncompleteReadError):
                    queue.append(payload)
                    stats["reconnects"] += 1
                    break
                if status_line.startswith(b"HTTP/1.1 200"):
                    stats["done"] += 1
                else:  # refused or unavailable: counted, and sent again
                    stats["errors"] += 1
                    if stats["errors"] > 1000:
                        raise RuntimeError(f"too many errors, the last: {status_line!r}")
                    queue.append(payload)
                if closing:  # the server asked: a new connection, as HTTP clients do
                    stats["closed"] += 1
                    break
        finally:
            writer.close()


def send(port: int, payloads: list[bytes], clients: int, max_seconds: float) -> tuple[float, dict[str, int]]:
    import asyncio

    stats = {"done": 0, "errors": 0, "reconnects": 0, "closed": 0}

    async def main() -> float:
        deadline = time.monotonic() + max_seconds
        queues = [list(reversed(payloads[lane::clients])) for lane in range(clients)]
        started = time.perf_counter()
        await asyncio.gather(*(_connection(port, q, deadline, stats) for q in queues))
        return time.perf_counter() - started

    return asyncio.run(main()), stats


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(p) for p in text)
    return found


def tree(pids: list[int]) -> list[int]:
    out: list[int] = []
    for pid in pids:
        out.append(pid)
        out.extend(tree(children(pid)))
    return out


def cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with suppress(FileNotFoundError, ProcessLookupError):
            total += ingest.cpu_seconds(pid)
    return total


def _admin() -> str:
    """The libpq URL of the benchmark's PostgreSQL server, database ``postgres``."""
    from sqlalchemy.engine import make_url

    admin = make_url(ingest.POSTGRES_ADMIN).set(drivername="postgresql", database="postgres")
    return admin.render_as_string(hide_password=False)


def backends(database: str) -> list[int]:
    import psycopg

    with psycopg.connect(_admin(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (database,)
        ).fetchall()
    return [int(r[0]) for r in rows]


def quiet(database: str, timeout: float = 120) -> float:
    """Wait until no autovacuum worker runs on ``database`` (the storms leave its tables to
    vacuum and analyze, which took a core from the yardstick measured after them); the
    seconds waited."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(_admin(), autocommit=True) as conn:
        while time.monotonic() - started < timeout:
            busy = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND backend_type = 'autovacuum worker'",
                (database,),
            ).fetchone()
            if busy is None or busy[0] == 0:
                break
            time.sleep(0.5)
    return time.monotonic() - started


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer 200")


@contextmanager
def started(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def serve(stack: ExitStack, folder: Path, env: dict[str, str], workers: int = 1) -> tuple[int, int]:
    port = ingest.free_port()
    argv = [WARROOM, "serve", "--port", str(port), "--no-access-log", "--workers", str(workers)]
    process = stack.enter_context(started(argv, env, folder / f"serve-{port}.log"))
    wait_ready(f"http://127.0.0.1:{port}/readyz")
    return port, process.pid


def measure(
    name: str, port: int, pids: list[int], database: str, token: str, first: int, args: argparse.Namespace
) -> Result:
    numbers = [range(first + b * PER_BODY, first + (b + 1) * PER_BODY) for b in range(args.bodies)]
    payloads = [ingest.request("/hooks/alertmanager", ingest.body(n, "firing"), token) for n in numbers]
    # Warm up every process and pooled connection, then measure.
    warm = [
        ingest.request("/hooks/alertmanager", ingest.body(range(first - 1000, first - 900), "firing"), token)
    ]
    send(port, warm * args.clients, args.clients, 10)
    processes = tree(pids)
    pg = backends(database)
    before, pg_before = cpu(processes), cpu(pg)
    idle_before, ticks_before = cores_idle()
    with SessionSampler(database, args.sample_ms / 1000) as sampler:
        seconds, stats = send(port, payloads, args.clients, args.max_seconds)
    idle_after, ticks_after = cores_idle()
    pg_after_pids = backends(database)
    server_cpu = cpu(processes) - before
    postgres_cpu = cpu(pg) - pg_before + cpu([p for p in pg_after_pids if p not in pg])
    alerts = stats["done"] * PER_BODY
    return Result(
        name,
        alerts,
        seconds,
        server_cpu,
        postgres_cpu,
        len(pg_after_pids),
        stats["errors"],
        stats["reconnects"],
        stats["closed"],
        sampler.means(),
        (idle_after - idle_before) / max(1, ticks_after - ticks_before),
    )


def alertmanager_rate(folder: Path, args: argparse.Namespace, when: str) -> Result | None:
    binary = shutil.which("prometheus-alertmanager")
    if binary is None:
        return None
    config = folder / "am.yml"
    config.write_text("route: {receiver: nowhere, group_by: ['...']}\nreceivers:\n  - name: nowhere\n")
    port = ingest.free_port()
    argv = [
        binary, f"--config.file={config}", f"--storage.path={folder / f'am-data-{when}'}",
        f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
    ]  # fmt: skip
    import json

    with started(argv, dict(os.environ), folder / f"alertmanager-{when}.log") as process:
        wait_ready(f"http://127.0.0.1:{port}/-/ready")
        payloads = []
        for b in range(args.bodies):
            alerts = [
                {
                    "labels": ingest.alert(n, "firing")["labels"] | {"n": str(n)},
                    "annotations": {"summary": "x"},
                }
                for n in range(b * PER_BODY, (b + 1) * PER_BODY)
            ]
            payloads.append(ingest.request("/api/v2/alerts", json.dumps(alerts).encode(), "none"))
        before = ingest.cpu_seconds(process.pid)
        idle_before, ticks_before = cores_idle()
        seconds, stats = send(port, payloads, args.clients, args.max_seconds)
        idle_after, ticks_after = cores_idle()
        used = ingest.cpu_seconds(process.pid) - before
    return Result(
        f"Alertmanager 0.25 /api/v2/alerts ({when})",
        stats["done"] * PER_BODY,
        seconds,
        used,
        0,
        0,
        stats["errors"],
        idle=(idle_after - idle_before) / max(1, ticks_after - ticks_before),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", type=int, default=150)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--max-seconds", type=float, default=60)
    parser.add_argument(
        "--sample-ms", type=float, default=25, help="PostgreSQL session sampling interval (0: off)"
    )
    args = parser.parse_args()
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp, ingest.database("postgres", Path(tmp)) as url:
        folder = Path(tmp)
        config, app, token = ingest.prepare(folder, url)
        config.write_text(config.read_text() + "\n[jobs]\nin_server = false\n")
        database = url.rsplit("/", 1)[1]
        env = os.environ | {"WARROOM_CONFIG": str(config), "PYTHONPATH": str(ROOT / "src")}
        first = 1_000_000
        # The yardstick runs before the setups and after them: this machine's speed drifts
        # over minutes (by a fifth, seen here), so each ratio is to the mean of the two.
        yardsticks = [alertmanager_rate(folder, args, "before")]
        for replicas in (1, 2, 3):
            with ExitStack() as stack:
                servers = [serve(stack, folder, env) for _ in range(replicas)]
                port = ingest.free_port()
                (folder / "haproxy.cfg").write_text(
                    haproxy_config([p for p, _ in servers], port, fast_checks=False)
                )
                balancer = stack.enter_context(
                    started([haproxy, "-db", "-f", str(folder / "haproxy.cfg")], env, folder / "haproxy.log")
                )
                wait_ready(f"http://127.0.0.1:{port}/readyz")
                pids = [pid for _, pid in servers]
                result = measure(
                    f"{replicas} replica(s) behind HAProxy", port, pids, database, token, first, args
                )
                balancer_cpu = ingest.cpu_seconds(balancer.pid)
                results.append(result)
                print(f"  (HAProxy used {balancer_cpu:.2f} CPU s in all)", flush=True)
                first += 10_000_000
        for workers in (2, 3):
            with ExitStack() as stack:
                port, pid = serve(stack, folder, env, workers)
                results.append(
                    measure(
                        f"serve --workers {workers} (one port)", port, [pid], database, token, first, args
                    )
                )
                first += 10_000_000
        waited = quiet(database)
        print(f"  (waited {waited:.1f} s for autovacuum on the benchmark's database to finish)", flush=True)
        yardsticks.append(alertmanager_rate(folder, args, "after"))
        app_engine = app.engine
        if app_engine is not None:
            app_engine.dispose()  # type: ignore[attr-defined]
    print(
        f"cluster ingest on PostgreSQL, {args.bodies} bodies x {PER_BODY} alerts, {args.clients} clients, {os.cpu_count()} cores"
    )
    measured = [y for y in yardsticks if y is not None]
    rate = sum(y.rate for y in measured) / len(measured) if measured else None
    for yardstick in measured:
        print(
            f"  {yardstick.name:<43} {yardstick.rate:8.0f} alerts/s  ({1000 * yardstick.server_cpu / yardstick.alerts:.3f} CPU ms/alert)"
            + (f"; cores idle {100 * yardstick.idle:.0f}%" if yardstick.idle is not None else "")
        )
    for result in results:
        print(result.line(rate))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
