"""PostgreSQL failover under load: a private primary with a synchronous streaming standby
(``pg_basebackup`` over loopback, the Debian PostgreSQL 15 binaries, run as the
``postgres`` user), a replica on a multi-host URL with ``target_session_attrs=read-write``
and an Alertmanager-like sender. The primary is killed (``pg_ctl stop -m immediate``) and
the standby promoted during the load: warroom answers 503 meanwhile (the sender retries),
reconnects on its own, and with synchronous replication no acknowledged alert is lost."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.cluster.harness import (
    WARROOM,
    Procs,
    Replica,
    admin_token,
    answers,
    free_port,
    wait_until,
    warroom_env,
    write_config,
)

BIN = Path("/usr/lib/postgresql/15/bin")
TEMPLATE = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures/webhooks/alertmanager_firing.json").read_text()
)
BEFORE, AFTER = 150, 150  # acknowledged bodies before the kill, and after the promotion


def _unavailable(reason: str) -> None:
    if os.environ.get("WARROOM_REQUIRE_ALL") == "1":
        pytest.fail(f"{reason} (WARROOM_REQUIRE_ALL=1)")
    pytest.skip(reason)


def as_postgres(*argv: str | Path, timeout: float = 60) -> str:
    done = subprocess.run(
        ["runuser", "-u", "postgres", "--", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise AssertionError(f"{argv[0]} failed: {done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class Pair:
    folder: Path
    primary_port: int
    standby_port: int
    started: list[Path] = field(default_factory=list)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.primary_port}/{database}"

    def start(self, data: Path) -> None:
        as_postgres(BIN / "pg_ctl", "-D", data, "-l", data / "server.log", "-w", "-t", "60", "start")
        self.started.append(data)

    def stop(self, data: Path, mode: str = "fast") -> None:
        if (data / "postmaster.pid").exists():
            as_postgres(BIN / "pg_ctl", "-D", data, "-m", mode, "-w", "-t", "30", "stop")


@pytest.fixture
def pair() -> Iterator[Pair]:
    if not (BIN / "pg_basebackup").exists() or shutil.which("runuser") is None:
        _unavailable(f"PostgreSQL 15 binaries not found under {BIN}")
    if os.geteuid() != 0:
        _unavailable("the failover test runs the PostgreSQL pair as the postgres user: run it as root")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        _unavailable("no postgres user")
    # Not under tmp_path: pytest's folders are root's alone, and the servers run as postgres.
    folder = Path(tempfile.mkdtemp(prefix="warroom-pg-"))
    shutil.chown(folder, "postgres", "postgres")
    made = Pair(folder, free_port(), free_port())
    primary, standby = folder / "primary", folder / "standby"
    try:
        as_postgres(
            BIN / "initdb", "-D", primary, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"
        )
        with (primary / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {made.primary_port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{folder}'\nwal_level = replica\nmax_wal_senders = 4\n"
                "synchronous_standby_names = 'standby1'\nsynchronous_commit = on\n"
                "fsync = off\nshared_buffers = 32MB\nmax_connections = 60\n"
            )  # fsync off: the fault here is a killed process, not a lost disk cache
        made.start(primary)
        as_postgres(
            BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", made.primary_port, "-U", "postgres",
            "-D", standby, "-X", "stream", "-R", "--no-sync",
        )  # fmt: skip
        with (standby / "postgresql.auto.conf").open("a") as conf:
            conf.write(
                f"primary_conninfo = 'host=127.0.0.1 port={made.primary_port} user=postgres "
                "application_name=standby1'\n"
            )
        with (standby / "postgresql.conf").open("a") as conf:
            # Promoted, it has no standby of its own: were it to wait for a synchronous one
            # (the primary's setting, copied by pg_basebackup), every commit would hang.
            conf.write(f"port = {made.standby_port}\nsynchronous_standby_names = ''\n")
        made.start(standby)

        def synchronous() -> bool:
            with psycopg.connect(made.url(), autocommit=True) as conn:
                row = conn.execute("SELECT sync_state FROM pg_stat_replication").fetchone()
            return row is not None and row[0] == "sync"

        wait_until(synchronous, "the standby to replicate synchronously")
        with psycopg.connect(made.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE warroom")
        yield made
    finally:
        for data in reversed(made.started):
            with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
                made.stop(data, "immediate")
        shutil.rmtree(folder, ignore_errors=True)


def body(number: int) -> bytes:
    doc = copy.deepcopy(TEMPLATE)
    base = doc["alerts"][0]
    doc["alerts"] = [
        base
        | {"fingerprint": f"f{number:015x}", "labels": base["labels"] | {"instance": f"10.9.0.{number}:9100"}}
    ]
    return json.dumps(doc).encode()


@dataclass
class Load:
    """Posts one alert a request, retrying on a 5xx or a broken connection (as Alertmanager
    does), and notes when each was acknowledged."""

    url: str
    token: str
    acknowledged: dict[str, float] = field(default_factory=dict)
    failures: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        number = 0
        with httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=5
        ) as c:
            while not self.stop.is_set():
                payload = body(number)
                try:
                    answer = c.post("/hooks/alertmanager", content=payload)
                    ok = answer.status_code == 200
                    assert answer.status_code < 300 or answer.status_code >= 500, answer.text
                except httpx.HTTPError:
                    ok = False
                if ok:
                    self.acknowledged[f"f{number:015x}"] = time.monotonic()
                    number += 1
                else:
                    self.failures.append(time.monotonic())
                    time.sleep(0.05)


def test_promoting_the_standby_under_load_loses_no_acknowledged_alert(
    pair: Pair, tmp_path: Path, procs: Procs
) -> None:
    url = (
        "postgresql+psycopg://postgres@/warroom?"
        f"host=127.0.0.1:{pair.primary_port}&host=127.0.0.1:{pair.standby_port}"
        "&target_session_attrs=read-write&connect_timeout=2"
    )
    config = write_config(tmp_path, url, "\n[alerts]\ndeclare = []")
    port = free_port()
    server = procs.start("serve", [WARROOM, "serve", "--port", str(port)], env=warroom_env(config))
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: answers(f"{base}/readyz"), "the replica", procs)
    admin = admin_token(Replica(server, port))
    token = httpx.post(
        f"{base}/api/v1/tokens",
        json={"name": "alertmanager:failover", "role": "ingest", "source": "alertmanager"},
        headers={"Authorization": f"Bearer {admin}"},
    ).json()["token"]
    load = Load(base, token)
    sender = threading.Thread(target=load.run, daemon=True)
    sender.start()
    try:
        wait_until(lambda: len(load.acknowledged) >= BEFORE, "load before the failover", procs)
        killed = time.monotonic()
        pair.stop(pair.folder / "primary", "immediate")  # the primary dies mid-load
        as_postgres(BIN / "pg_ctl", "-D", pair.folder / "standby", "-w", "promote")
        promoted = time.monotonic()
        acked_before = len(load.acknowledged)
        wait_until(lambda: len(load.acknowledged) >= acked_before + AFTER, "load after the promotion", procs)
    finally:
        load.stop.set()
        sender.join(10)
    # From the first failed attempt after the kill to the next acknowledgement.
    first_failure = min((t for t in load.failures if t >= killed), default=None)
    assert first_failure is not None, "the load never met the failover"
    back = min(t for t in load.acknowledged.values() if t > first_failure)
    unavailable = back - first_failure
    print(
        f"\nfailover: promoted {promoted - killed:.2f} s after the kill; no acknowledgement for "
        f"{unavailable:.2f} s; {len(load.failures)} failed attempts, retried; {len(load.acknowledged)} acknowledged"
    )
    assert unavailable < 20, unavailable
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pair.standby_port}/warroom") as conn:
        stored = {r[0] for r in conn.execute("SELECT fingerprint FROM alerts")}
    lost = set(load.acknowledged) - stored
    assert not lost, f"{len(lost)} acknowledged alerts lost"
    assert answers(f"{base}/readyz") and "Traceback" not in server.text()
