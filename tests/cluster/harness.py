"""Processes of a cluster on 127.0.0.1: ``warroom serve`` replicas, ``warroom worker``s,
HAProxy and Alertmanager, each started with a wall-clock limit, its own log file and
``PR_SET_PDEATHSIG`` (it dies with the test run), and stopped by its PID at teardown.
Nothing that this module did not start is ever signalled.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

WARROOM = str(Path(sys.executable).with_name("warroom"))
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
LIMIT = 170.0  # seconds any process of this suite may live
PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def require(binary: str, package: str) -> str:
    found = shutil.which(binary) or (
        f"/usr/sbin/{binary}" if os.access(f"/usr/sbin/{binary}", os.X_OK) else None
    )
    if found is None:
        reason = f"{binary} not found; install the Debian package {package}"
        if os.environ.get("WARROOM_REQUIRE_ALL") == "1":
            pytest.fail(f"{reason} (WARROOM_REQUIRE_ALL=1)")
        pytest.skip(reason)
    return found


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    watchdog: threading.Timer
    ended_by_test: bool = False

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill9(self) -> None:
        self.ended_by_test = True
        if self.running:
            os.kill(self.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, timeout: float = 10.0) -> None:
        self.ended_by_test = True
        self.watchdog.cancel()
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@dataclass
class Procs:
    """Everything one test (or module) started; ``stop_all`` ends each by its PID."""

    folder: Path
    started: list[Proc] = field(default_factory=list)

    def start(
        self, name: str, argv: list[str], *, env: dict[str, str] | None = None, limit: float = LIMIT
    ) -> Proc:
        log = self.folder / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                argv,
                cwd=self.folder,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        watchdog = threading.Timer(limit, lambda: popen.poll() is None and popen.kill())
        watchdog.daemon = True
        watchdog.start()
        proc = Proc(name, popen, log, watchdog)
        self.started.append(proc)
        return proc

    def logs(self, tail: int = 4000) -> str:
        return "\n".join(f"== {p.name}\n{p.text()[-tail:]}" for p in self.started)

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            proc.stop()


@contextmanager
def processes(folder: Path) -> Iterator[Procs]:
    procs = Procs(folder)
    try:
        yield procs
    finally:
        procs.stop_all()


def wait_until(
    condition: Callable[[], bool], what: str, procs: Procs | None = None, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        died = [p.name for p in (procs.started if procs else []) if not p.running and not p.ended_by_test]
        if died:
            pytest.fail(f"{', '.join(died)} exited while waiting for {what}\n{procs.logs() if procs else ''}")
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout:g} s waiting for {what}\n{procs.logs() if procs else ''}")


def answers(url: str, status: int = 200) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == status
    except httpx.HTTPError:
        return False


def warroom_env(config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env["WARROOM_CONFIG"] = str(config)
    return env


def write_config(folder: Path, url: str, extra: str = "") -> Path:
    """A warroom.toml for every process of the cluster: one database, jobs in the workers."""
    path = folder / "warroom.toml"
    path.write_text(f'database_url = "{url}"\n\n[jobs]\nin_server = false\n{extra}\n')
    return path


@dataclass
class Replica:
    proc: Proc
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_replicas(procs: Procs, config: Path, count: int, *, first: int = 0) -> list[Replica]:
    """``count`` ``warroom serve`` processes, ready (``/readyz`` 200) when this returns."""
    replicas = []
    for n in range(first, first + count):
        port = free_port()
        argv = [WARROOM, "serve", "--host", "127.0.0.1", "--port", str(port)]
        replicas.append(Replica(procs.start(f"serve-{n}", argv, env=warroom_env(config)), port))
    for replica in replicas:
        wait_until(lambda r=replica: answers(f"{r.url}/readyz"), f"{replica.proc.name} to be ready", procs)
    return replicas


def start_workers(procs: Procs, config: Path, workers: int) -> tuple[Replica, list[int]]:
    """One ``warroom serve --workers N``, every server process started and the port ready
    when this returns; with the server processes' pids (from uvicorn's log)."""
    port = free_port()
    argv = [WARROOM, "serve", "--port", str(port), "--workers", str(workers)]
    server = Replica(procs.start("serve", argv, env=warroom_env(config)), port)
    wait_until(lambda: answers(f"{server.url}/readyz"), "the server processes", procs)
    started = "Application startup complete"
    wait_until(lambda: server.proc.text().count(started) >= workers, "every process", procs)
    pids = [int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", server.proc.text())]
    return server, pids


def admin_token(replica: Replica) -> str:
    """The first admin token, printed once by whichever replica created it."""
    match = re.search(r"admin token \(shown once, keep it\): (\S+)", replica.proc.text())
    if match is None:
        raise AssertionError(f"{replica.proc.name} printed no admin token:\n{replica.proc.text()}")
    return match.group(1)


def haproxy_config(backends: list[int], port: int, *, fast_checks: bool = True) -> str:
    """deploy/haproxy.cfg with this test's addresses: the shipped file is what is tested."""
    text = (DEPLOY / "haproxy.cfg").read_text()
    text = re.sub(r"(?m)^(\s*)bind \S+", rf"\1bind 127.0.0.1:{port}", text, count=1)
    lines = [f"    server warroom{n + 1} 127.0.0.1:{p} check" for n, p in enumerate(backends)]
    text = re.sub(r"(?m)^\s*server warroom\d+ .*\n", "", text)
    text = text.replace("    # servers\n", "    # servers\n" + "\n".join(lines) + "\n")
    if fast_checks:  # a test waits seconds, not minutes: check health more often
        text = re.sub(r"inter \S+", "inter 200ms", text)
    return text


def start_haproxy(procs: Procs, backends: list[int]) -> str:
    binary = require("haproxy", "haproxy")
    port = free_port()
    config = procs.folder / "haproxy.cfg"
    config.write_text(haproxy_config(backends, port))
    procs.start("haproxy", [binary, "-db", "-f", str(config)])
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: answers(f"{url}/readyz"), "HAProxy to route to a ready replica", procs)
    return url


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the test PostgreSQL (dropped afterwards), for a whole module."""
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(
        os.environ.get("WARROOM_TEST_POSTGRES_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/"
    )
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    name = f"warroom_cluster_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL unreachable at {base.host}:{base.port}: {str(exc).splitlines()[0]}"
        if os.environ.get("WARROOM_REQUIRE_ALL") == "1":
            pytest.fail(f"{reason} (WARROOM_REQUIRE_ALL=1)")
        pytest.skip(reason)
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Cluster:
    """Replicas on one PostgreSQL database behind HAProxy, with an admin token."""

    url: str  # HAProxy
    database_url: str
    replicas: list[Replica]
    procs: Procs
    token: str

    def api(self, base: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=base or self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=10
        )

    def ingest_token(self, name: str, source: str = "alertmanager") -> str:
        with self.api() as client:
            answer = client.post("/api/v1/tokens", json={"name": name, "role": "ingest", "source": source})
            answer.raise_for_status()
            return str(answer.json()["token"])


SECRET = "one secret for every replica, so a login holds on each"


def start_cluster(procs: Procs, database_url: str, replicas: int = 3, extra: str = "") -> Cluster:
    config = write_config(procs.folder, database_url, extra)
    config.write_text(f'secret_key = "{SECRET}"\n' + config.read_text())
    started = start_replicas(procs, config, replicas)
    token = next(admin_token(r) for r in started if "admin token (shown once" in r.proc.text())
    url = start_haproxy(procs, [r.port for r in started])
    return Cluster(url, database_url, started, procs, token)


def start_alertmanager_pair(procs: Procs, webhook_url: str, token: str) -> list[str]:
    """Two Alertmanagers clustered over loopback, both notifying ``webhook_url``.

    ``--cluster.peer-timeout`` is short, so the second does not wait for the first to tell
    it a group was sent: both send, and the duplicates race each other across replicas."""
    binary = require("prometheus-alertmanager", "prometheus-alertmanager")
    config = procs.folder / "alertmanager.yml"
    config.write_text(
        f"""
route:
  receiver: warroom
  group_by: ['alertname', 'service']
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: warroom
    webhook_configs:
      - url: {webhook_url}
        send_resolved: true
        max_alerts: 0
        http_config:
          authorization:
            credentials: {token}
"""
    )
    web = [free_port(), free_port()]
    gossip = [free_port(), free_port()]
    urls = []
    for n in range(2):
        data = procs.folder / f"alertmanager-{n}"
        data.mkdir()
        procs.start(
            f"alertmanager-{n}",
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={data}",
                f"--web.listen-address=127.0.0.1:{web[n]}",
                f"--cluster.listen-address=127.0.0.1:{gossip[n]}",
                f"--cluster.peer=127.0.0.1:{gossip[1 - n]}",
                "--cluster.peer-timeout=50ms",
                "--cluster.settle-timeout=2s",
                "--cluster.gossip-interval=50ms",
                "--cluster.pushpull-interval=1s",
                "--log.level=debug",
            ],
        )
        urls.append(f"http://127.0.0.1:{web[n]}")
    for url in urls:
        wait_until(lambda u=url: answers(f"{u}/-/ready"), f"Alertmanager {url}", procs)
    for url in urls:

        def two_peers(u: str = url) -> bool:
            try:
                status = httpx.get(f"{u}/api/v2/status", timeout=1).json()
            except (httpx.HTTPError, ValueError):
                return False
            return len(status.get("cluster", {}).get("peers") or []) == 2

        wait_until(two_peers, f"Alertmanager {url} to see its peer", procs)
    return urls
