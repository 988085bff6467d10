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

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill9(self) -> None:
        if self.running:
            os.kill(self.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, timeout: float = 10.0) -> None:
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
    condition: Callable[[], bool], what: str, procs: Procs | None = None, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
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


def admin_token(replica: Replica) -> str:
    """The first admin token, printed once by whichever replica created it."""
    match = re.search(r"admin token \(shown once, keep it\): (\S+)", replica.proc.text())
    if match is None:
        raise AssertionError(f"{replica.proc.name} printed no admin token:\n{replica.proc.text()}")
    return match.group(1)


def haproxy_config(backends: list[int], port: int, stats: int | None = None) -> str:
    """deploy/haproxy.cfg with this test's addresses: the shipped file is what is tested."""
    text = (DEPLOY / "haproxy.cfg").read_text()
    text = re.sub(r"(?m)^(\s*)bind \S+", rf"\1bind 127.0.0.1:{port}", text, count=1)
    lines = [f"    server warroom{n + 1} 127.0.0.1:{p} check" for n, p in enumerate(backends)]
    text = re.sub(r"(?m)^\s*server warroom\d+ .*\n", "", text)
    text = text.replace("    # servers\n", "    # servers\n" + "\n".join(lines) + "\n")
    # A test waits seconds, not minutes: check health more often than production does.
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
