"""Benchmark: the X-ray (issue 18, DESIGN.md section 11), on this 2-core machine.

- OTLP ingest through ``POST /v1/traces`` (protobuf, 512-span bodies as the SDK's batch
  processor sends them): budget >= 10,000 spans/s, server RSS <= 250 MB;
- the failing-path analysis over 100,000 spans in the window: budget <= 1 s (the store read
  that precedes it is timed apart);
- bytes per stored span on disk (SQLite file growth / spans), which with the retention and
  the tail-sampling share bounds the disk.

A real uvicorn serves ``warroom.server.create_app`` on 127.0.0.1 in its own process; the
clients are ``--clients`` threads posting pre-encoded bodies with keep-alive httpx clients.

    .venv/bin/python bench/xray_bench.py [--spans 200000] [--clients 4] [--analysis-spans 100000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.xray.otlp_bodies import protobuf_body  # noqa: E402
from tests.xray.shop import shop  # noqa: E402

from warroom.bootstrap import build  # noqa: E402
from warroom.domain.xray.verdict import xray  # noqa: E402
from warroom.services.identity import auth  # noqa: E402
from warroom.settings import Settings  # noqa: E402

INGEST_BUDGET = 10_000.0
RSS_BUDGET_MB = 250.0
ANALYSIS_BUDGET_S = 1.0
BATCH = 512

SERVER = """
import sys, uvicorn
from warroom.bootstrap import build
from warroom.server import create_app
from warroom.settings import Settings
app = create_app(build(Settings(database_url=sys.argv[2])), with_web=False)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bodies(total: int) -> list[bytes]:
    start = int((datetime.now(UTC) - timedelta(minutes=5)).timestamp() * 1_000_000)
    spans = shop(1, total // 6 + 1, fault_share=0.05, start_us=start, retries=1)[:total]
    return [protobuf_body(spans[i : i + BATCH]) for i in range(0, len(spans), BATCH)]


def ingest(url: str, token: str, payloads: list[bytes], clients: int) -> tuple[float, int]:
    errors = 0
    lock = threading.Lock()
    queue = list(reversed(payloads))

    def work() -> None:
        nonlocal errors
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-protobuf"}
        with httpx.Client(timeout=60) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                if client.post(f"{url}/v1/traces", content=body, headers=headers).status_code != 200:
                    with lock:
                        errors += 1

    threads = [threading.Thread(target=work) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--analysis-spans", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "warroom.db"
        url = f"sqlite:///{db}"
        app = build(Settings(database_url=url))
        token = auth.create_token(app.context, "otel", "ingest", "otlp")[0]
        empty = (
            db.stat().st_size + Path(f"{db}-wal").stat().st_size
            if Path(f"{db}-wal").exists()
            else db.stat().st_size
        )
        payloads = bodies(args.spans)
        port = free_port()
        env = os.environ | {"PYTHONPATH": str(ROOT / "src")}
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), url], env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.1)
            ingest(base, token, payloads[:4], 1)  # warm up
            cpu_before = cpu_seconds(server.pid)
            seconds, errors = ingest(base, token, payloads[4:], args.clients)
            server_cpu = cpu_seconds(server.pid) - cpu_before
            sent = sum(min(BATCH, args.spans - i * BATCH) for i in range(4, len(payloads)))
            rss = peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(10)
        store = app.context.xray.store
        count = store.count()
        import sqlite3

        with sqlite3.connect(db) as raw:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        used = db.stat().st_size - empty
        rate = sent / seconds
        per_cpu = sent / server_cpu
        print(f"OTLP ingest: {sent} spans in {seconds:.2f} s = {rate:,.0f} spans/s wall-clock "
              f"(budget >= {INGEST_BUDGET:,.0f}: {rate / INGEST_BUDGET:.2f}x), {errors} errors; "
              f"server CPU {server_cpu:.2f} s = {per_cpu:,.0f} spans per server CPU-second "
              f"({per_cpu / INGEST_BUDGET:.2f}x)")  # fmt: skip
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(
            f"server peak RSS: {rss:.0f} MB (budget <= {RSS_BUDGET_MB:.0f}: {rss / RSS_BUDGET_MB:.2f} of it)"
        )
        print(f"disk: {used / count:.0f} bytes per stored span ({count} spans, {used / 1e6:.1f} MB, SQLite)")

        now = datetime.now(UTC)
        read_started, read_cpu = time.perf_counter(), time.process_time()
        spans = store.spans(
            ["checkout"], now - timedelta(hours=1), now, timeout=30, limit=args.analysis_spans
        )
        read, read_cpu = time.perf_counter() - read_started, time.process_time() - read_cpu
        started, cpu = time.perf_counter(), time.process_time()
        report = xray(spans, [], now_seconds=600, baseline_seconds=600, owners={})
        analysis, cpu = time.perf_counter() - started, time.process_time() - cpu
        started, both_cpu = time.perf_counter(), time.process_time()
        xray(spans, spans[: len(spans) // 2], now_seconds=600, baseline_seconds=600, owners={})
        both, both_cpu = time.perf_counter() - started, time.process_time() - both_cpu
        print(f"failing-path analysis over {len(spans):,} spans: {analysis:.3f} s wall, {cpu:.3f} s CPU "
              f"(budget <= {ANALYSIS_BUDGET_S} s: {analysis / ANALYSIS_BUDGET_S:.2f} of it wall); "
              f"with a {len(spans) // 2:,}-span baseline {both:.3f} s wall, {both_cpu:.3f} s CPU; "
              f"store read {read:.3f} s wall, {read_cpu:.3f} s CPU")  # fmt: skip
        print(f"verdict: {report.verdict}")
        app.context.uow.args[0].dispose()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
