"""A real Prometheus, Alertmanager and demo-shop on 127.0.0.1, started and stopped by PID.

``warroom demo --live`` and the impact probe's tests run on it:

    available = binaries_available()
    if not available:
        pytest.skip(available.reason)
    with PromStack(webhook_url="http://127.0.0.1:8000/hooks/alertmanager") as stack:
        stack.inject_fault(region="eu-west", route="/api/checkout", error_ratio=0.4)
        ...  # query stack.prometheus_url, watch stack.alertmanager_url
        stack.set_flag("new_payment_flow", enabled=False)  # the prepared mitigation

Everything listens on 127.0.0.1 on free ports and keeps its configuration, data and logs
in a temporary directory that is removed on stop. Only the processes this object
started are ever signalled. The shop and its configuration come from examples/demo-shop
in a source checkout (or the folder ``WARROOM_DEMO_SHOP`` names).
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

__all__ = ["Availability", "PromStack", "StackError", "binaries_available", "shop_dir"]

SHOP_DIR = Path(__file__).resolve().parents[2] / "examples" / "demo-shop"
BINARIES = {"prometheus": "prometheus", "alertmanager": "prometheus-alertmanager"}
# Alertmanager needs a syntactically valid URL even when no test listens; port 9 is
# "discard", so deliveries fail fast and harmlessly.
NOWHERE = "http://127.0.0.1:9/nowhere"


class StackError(RuntimeError):
    """A component did not start or become ready; the message carries its log's tail."""


@dataclass(frozen=True)
class Availability:
    """Whether the binaries are installed; falsy with a one-line `reason` when not."""

    ok: bool
    reason: str

    def __bool__(self) -> bool:
        return self.ok


def find_binary(name: str) -> str | None:
    """The path of a binary on PATH or in /usr/bin (where the Debian packages put it)."""
    found = shutil.which(name)
    if found is None and os.access(f"/usr/bin/{name}", os.X_OK):
        found = f"/usr/bin/{name}"
    return found


def shop_dir() -> Path:
    """Where demo-shop lives: ``WARROOM_DEMO_SHOP``, else examples/demo-shop of the checkout."""
    return Path(os.environ.get("WARROOM_DEMO_SHOP") or SHOP_DIR)


def binaries_available() -> Availability:
    missing = [binary for binary in BINARIES.values() if find_binary(binary) is None]
    if missing:
        return Availability(
            False, f"{' and '.join(missing)} not found; install the Debian packages of the same name"
        )
    if not (shop_dir() / "shop.py").is_file():
        return Availability(
            False, f"demo-shop not found at {shop_dir()}; run from a source checkout or set WARROOM_DEMO_SHOP"
        )
    return Availability(True, "")


def free_port() -> int:
    """A port that was free a moment ago (the caller may lose a race; PromStack retries)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Process:
    """One child process with its log file; stop() signals only this PID."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.popen = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **env} if env else None,
            )

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def pause(self, timeout: float = 2.0) -> None:
        """SIGSTOP, then wait until every thread has stopped.

        The signal only starts a group stop: a thread running on another CPU may still
        finish an answer, so a test that expects silence must wait for the stop.
        """
        if not self.running:
            return
        self.popen.send_signal(signal.SIGSTOP)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._all_threads_stopped():
            time.sleep(0.01)

    def _all_threads_stopped(self) -> bool:
        tasks = Path(f"/proc/{self.popen.pid}/task")
        try:
            # The state follows the parenthesised command name: "123 (prometheus) T ...".
            states = [(task / "stat").read_text().rsplit(")", 1)[1].split()[0] for task in tasks.iterdir()]
        except (OSError, IndexError):
            return True  # no /proc to look at, or the process is gone: nothing to wait for
        return all(state in ("T", "t") for state in states)

    def resume(self) -> None:
        if self.running:
            self.popen.send_signal(signal.SIGCONT)

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate, then kill if it has not exited within `timeout` seconds."""
        if self.popen.poll() is not None:
            return
        self.resume()  # a paused process would not act on SIGTERM until continued
        self.popen.terminate()
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout)


class PromStack:
    """demo-shop scraped by Prometheus, which sends its alerts to Alertmanager.

    `webhook_url` receives Alertmanager's notifications (none if omitted). After
    `start()` (or entering the `with` block) `shop_url`, `prometheus_url` and
    `alertmanager_url` are set, all three answer, and Prometheus has scraped the shop
    (with `scraped=False`, not waited for: Prometheus applies its first targets 5 s after
    it starts, which a caller that needs no data can skip).
    """

    def __init__(
        self,
        webhook_url: str | None = None,
        *,
        startup_timeout: float = 30.0,
        shop_rate: float = 180.0,
        keep_workdir: bool = False,
        otlp_endpoint: str | None = None,
        otlp_token: str | None = None,
        scraped: bool = True,
    ) -> None:
        self.webhook_url = webhook_url or NOWHERE
        self.scraped = scraped
        # Where demo-shop exports its checkout traces over OTLP/HTTP (None: no traces).
        self.otlp_endpoint = otlp_endpoint
        self.otlp_token = otlp_token
        self.startup_timeout = startup_timeout
        self.shop_rate = shop_rate
        self.keep_workdir = keep_workdir
        self.shop_url = self.prometheus_url = self.alertmanager_url = ""
        self.workdir: Path | None = None
        # time.monotonic() when the stack became ready, and when a fault or flag last
        # changed (None: never), so that a caller can wait for the shop's rates to settle.
        self.ready_at = 0.0
        self.changed_at: float | None = None
        self._processes: dict[str, _Process] = {}
        self._http = httpx.Client(timeout=2.0)

    # --- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> PromStack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, attempts: int = 3) -> None:
        """Start the three processes and wait until they are ready.

        A port can be taken between picking it and binding it; then the whole stack is
        started again on fresh ports, up to `attempts` times.
        """
        availability = binaries_available()
        if not availability:
            raise StackError(availability.reason)
        atexit.register(self.stop)
        for attempt in range(1, attempts + 1):
            try:
                self._start_once()
                return
            except StackError as exc:
                self._stop_processes()
                if attempt == attempts or "address already in use" not in str(exc).lower():
                    self.stop()
                    raise

    def stop(self) -> None:
        """Stop every process this stack started and remove its working directory."""
        self._stop_processes()
        self._http.close()
        if self.workdir is not None and not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        atexit.unregister(self.stop)

    def stop_prometheus(self) -> None:
        """Stop Prometheus alone, to see how its clients cope with losing it."""
        if "prometheus" in self._processes:
            self._processes["prometheus"].stop()

    def pause_prometheus(self) -> None:
        """Freeze Prometheus (SIGSTOP): it accepts connections but never answers."""
        self._processes["prometheus"].pause()

    def resume_prometheus(self) -> None:
        self._processes["prometheus"].resume()

    def _stop_processes(self) -> None:
        # Prometheus first, so it does not record the shop and Alertmanager vanishing.
        for name in ("prometheus", "alertmanager", "shop"):
            process = self._processes.pop(name, None)
            if process is not None:
                process.stop()

    def _start_once(self) -> None:
        self.workdir = self.workdir or Path(tempfile.mkdtemp(prefix="warroom-promstack-"))
        ports = {name: free_port() for name in ("shop", "prometheus", "alertmanager")}
        self.shop_url = f"http://127.0.0.1:{ports['shop']}"
        self.prometheus_url = f"http://127.0.0.1:{ports['prometheus']}"
        self.alertmanager_url = f"http://127.0.0.1:{ports['alertmanager']}"
        configs = self._write_configs(ports)

        self._spawn(
            "shop",
            [
                sys.executable,
                str(shop_dir() / "shop.py"),
                "--port",
                str(ports["shop"]),
                "--rate",
                f"{self.shop_rate:g}",
                *(["--otlp-endpoint", self.otlp_endpoint] if self.otlp_endpoint else []),
            ],
            # The token in the environment, not on a command line every `ps` shows.
            env={"DEMO_SHOP_OTLP_TOKEN": self.otlp_token} if self.otlp_token else None,
        )
        self._spawn(
            "alertmanager",
            [
                _binary("alertmanager"),
                f"--config.file={configs['alertmanager']}",
                f"--storage.path={self._dir('alertmanager-data')}",
                f"--web.listen-address=127.0.0.1:{ports['alertmanager']}",
                "--cluster.listen-address=",
            ],
        )
        self._spawn(
            "prometheus",
            [
                _binary("prometheus"),
                f"--config.file={configs['prometheus']}",
                f"--storage.tsdb.path={self._dir('prometheus-data')}",
                f"--web.listen-address=127.0.0.1:{ports['prometheus']}",
            ],
        )
        self._wait_until("shop", lambda: self._answers(f"{self.shop_url}/healthz"))
        self._wait_until("alertmanager", lambda: self._answers(f"{self.alertmanager_url}/-/ready"))
        self._wait_until("prometheus", lambda: self._answers(f"{self.prometheus_url}/-/ready"))
        if self.scraped:
            self._wait_until("prometheus", self._has_scraped_the_shop)
        self.ready_at = time.monotonic()

    def _write_configs(self, ports: dict[str, int]) -> dict[str, Path]:
        assert self.workdir is not None
        rules = self.workdir / "rules.yml"
        shutil.copyfile(shop_dir() / "rules.yml", rules)
        prometheus = self.workdir / "prometheus.yml"
        prometheus.write_text(
            string.Template((shop_dir() / "prometheus.yml.tmpl").read_text()).substitute(
                shop_target=f"127.0.0.1:{ports['shop']}",
                alertmanager_target=f"127.0.0.1:{ports['alertmanager']}",
                rules_file=str(rules),
            )
        )
        alertmanager = self.workdir / "alertmanager.yml"
        alertmanager.write_text(self._alertmanager_config())
        return {"prometheus": prometheus, "alertmanager": alertmanager}

    def _alertmanager_config(self) -> str:
        template = string.Template((shop_dir() / "alertmanager.yml.tmpl").read_text())
        return template.substitute(webhook_url=self.webhook_url)

    def send_alerts_to(self, webhook_url: str | None) -> None:
        """Point Alertmanager's notifications at `webhook_url` (None: nowhere) from now on.

        Rewrites its configuration and reloads it; returns once Alertmanager has applied it.
        """
        assert self.workdir is not None, "start the stack first"
        self.webhook_url = webhook_url or NOWHERE
        (self.workdir / "alertmanager.yml").write_text(self._alertmanager_config())
        response = self._http.post(f"{self.alertmanager_url}/-/reload")
        if response.status_code != 200:
            raise StackError(f"Alertmanager refused its new configuration: {response.text.strip()[:200]}")

    def _dir(self, name: str) -> Path:
        assert self.workdir is not None
        path = self.workdir / name
        path.mkdir(exist_ok=True)
        return path

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        assert self.workdir is not None
        self._processes[name] = _Process(name, argv, self.workdir / f"{name}.log", env)

    def _wait_until(self, name: str, ready: Callable[[], bool]) -> None:
        process = self._processes[name]
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if not process.running:
                raise StackError(f"{name} exited with {process.popen.returncode}:\n{process.log_tail()}")
            if ready():
                return
            time.sleep(0.1)
        raise StackError(f"{name} not ready after {self.startup_timeout:g} s:\n{process.log_tail()}")

    def _answers(self, url: str) -> bool:
        try:
            return self._http.get(url).status_code == 200
        except httpx.HTTPError:
            return False

    def _has_scraped_the_shop(self) -> bool:
        try:
            response = self._http.get(
                f"{self.prometheus_url}/api/v1/query", params={"query": 'up{job="demo-shop"}'}
            )
            result = response.json()["data"]["result"]
        except (httpx.HTTPError, ValueError, KeyError):
            return False
        return bool(result) and result[0]["value"][1] == "1"

    # --- the shop's switches -----------------------------------------------------------

    def inject_fault(
        self,
        *,
        region: str | None = None,
        route: str | None = None,
        error_ratio: float = 1.0,
        flag: str | None = "new_payment_flow",
        latency_seconds: float = 0.0,
    ) -> None:
        """Make the shop fail `error_ratio` of requests in a region/route (None = all).

        The fault is caused by `flag` (turned on now): `set_flag(flag, enabled=False)`
        mitigates it. With `flag=None` nothing but `clear_fault()` stops it.
        """
        params = {
            "error_ratio": f"{error_ratio:g}",
            "flag": flag or "",
            "latency_seconds": f"{latency_seconds:g}",
        }
        params |= {k: v for k, v in (("region", region), ("route", route)) if v is not None}
        self._shop("POST", "/fault", params)

    def clear_fault(self) -> None:
        """Remove every fault (the flags keep their state)."""
        self._shop("DELETE", "/fault", {})

    def set_flag(self, name: str, *, enabled: bool) -> None:
        self._shop("POST", f"/flags/{name}", {"enabled": "true" if enabled else "false"})

    def shop_state(self) -> dict[str, Any]:
        """The shop's faults and flags: ``{"faults": [{"region": ..., "flag": ...}], "flags": {...}}``."""
        response = self._http.get(f"{self.shop_url}/fault")
        if response.status_code != 200:
            raise StackError(f"demo-shop answered {response.status_code}: {response.text.strip()[:200]}")
        state: dict[str, Any] = response.json()
        return state

    def alerts(self, name: str | None = None) -> list[dict[str, Any]]:
        """The alerts Alertmanager holds now (its API v2), optionally those named ``name``."""
        params = {"filter": f'alertname="{name}"'} if name else {}
        response = self._http.get(f"{self.alertmanager_url}/api/v2/alerts", params=params)
        if response.status_code != 200:
            raise StackError(f"Alertmanager answered {response.status_code}: {response.text.strip()[:200]}")
        found: list[dict[str, Any]] = response.json()
        return found

    def _shop(self, method: str, path: str, params: dict[str, str]) -> None:
        response = self._http.request(method, f"{self.shop_url}{path}", params=params)
        if response.status_code != 200:
            raise StackError(f"demo-shop refused {method} {path}: {response.text.strip()}")
        self.changed_at = time.monotonic()


def _binary(component: str) -> str:
    path = find_binary(BINARIES[component])
    if path is None:
        raise StackError(binaries_available().reason)
    return path
