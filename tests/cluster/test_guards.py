"""Misconfiguration a cluster meets: a replica on a database migrated by a newer release,
replicas migrating at once, a worker whose database does not answer."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import text

from tests.cluster.harness import (
    WARROOM,
    Procs,
    admin_token,
    answers,
    free_port,
    start_workers,
    wait_until,
    warroom_env,
    write_config,
)
from warroom.storage.db import make_engine
from warroom.storage.migrate import HEAD, ensure_schema

MIGRATE_ONE = """
import sys
from warroom.storage.db import make_engine
from warroom.storage.migrate import ensure_schema
engine = make_engine(sys.argv[1])
print("migrated" if ensure_schema(engine) else "already at head")
engine.dispose()
"""


def test_replicas_migrating_at_once_take_turns(database_url: str) -> None:
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE_ONE, database_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outcomes = []
    for racer in racers:
        out, err = racer.communicate(timeout=60)
        assert racer.returncode == 0, err
        outcomes.append(out.strip())
    assert sorted(outcomes) == ["already at head", "already at head", "migrated"]
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [
                HEAD
            ]
    finally:
        engine.dispose()


def _ahead(url: str) -> None:
    engine = make_engine(url)
    try:
        ensure_schema(engine)
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("verb", "database"),
    [("serve", "sqlite"), ("serve", "postgres"), ("worker", "postgres"), ("list", "sqlite")],
)
def test_a_replica_on_a_newer_schema_refuses_to_start_with_one_line(
    verb: str, database: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    database_url = str(request.getfixturevalue(f"{database}_url"))
    _ahead(database_url)
    config = write_config(tmp_path, database_url)
    argv = {"serve": ["serve", "--port", str(free_port())], "worker": ["worker", "--once"], "list": ["list"]}
    done = subprocess.run(
        [WARROOM, *argv[verb]],
        env=warroom_env(config),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "9999_from_the_future" in lines[0] and f"its head is {HEAD}" in lines[0]
    assert "upgrade warroom" in lines[0] and "Traceback" not in done.stdout + done.stderr


def test_a_worker_without_its_database_is_not_ready_until_it_answers(
    postgres_url: str, tmp_path: Path, procs: Procs
) -> None:
    # The database of the URL does not exist yet: the worker waits, not ready, then starts.
    missing = postgres_url.rsplit("/", 1)[0] + "/" + postgres_url.rsplit("/", 1)[1] + "_later"
    config = write_config(tmp_path, missing, "interval_seconds = 0.2")
    health = free_port()
    worker = procs.start("worker", [WARROOM, "worker", "--health-port", str(health)], env=warroom_env(config))
    base = f"http://127.0.0.1:{health}"
    wait_until(lambda: answers(f"{base}/healthz"), "the worker's health endpoint", procs)
    assert answers(f"{base}/readyz", 503)
    wait_until(lambda: "not ready: the database does not answer" in worker.text(), "the log line", procs)
    admin = postgres_url.replace("postgresql+psycopg", "postgresql").rsplit("/", 1)[0] + "/postgres"
    name = missing.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        wait_until(lambda: answers(f"{base}/readyz"), "the worker to become ready", procs)
        assert "warroom worker " in worker.text() and "Traceback" not in worker.text()
    finally:
        worker.stop()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_worker_health_port_refuses_a_port_in_use(tmp_path: Path, sqlite_url: str) -> None:
    import socket

    config = write_config(tmp_path, sqlite_url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [WARROOM, "worker", "--health-port", str(port)],
            env=warroom_env(config),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: cannot serve health on 127.0.0.1:{port}: Address already in use"
    ]


@pytest.mark.parametrize("value", ['"many"', "0"])
def test_a_bad_pool_size_stops_the_start_with_one_line(value: str, sqlite_url: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, sqlite_url, f"\n[database]\npool_size = {value}")
    done = subprocess.run(
        [WARROOM, "serve", "--port", str(free_port())],
        env=warroom_env(config),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    given = repr(tomllib.loads(f"v = {value}")["v"])
    assert done.stderr.strip().splitlines() == [
        f"error: database.pool_size in {config} must be a whole number from 1 to 1000, not {given}"
    ]
    assert not (tmp_path / "warroom.db").exists()  # refused before anything was created


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["serve", "--workers", "0"], "--workers"),
        (["serve", "--workers", "65"], "--workers"),
        (["serve", "--workers", "two"], "--workers"),
        (["worker", "--health-port", "70000"], "--health-port"),
        (["worker", "--health-port", "-1"], "--health-port"),
        (["worker", "--health-port", "9090\x00"], "--health-port"),
    ],
)
def test_bad_process_options_are_refused_before_anything_starts(
    args: list[str], word: str, tmp_path: Path, sqlite_url: str
) -> None:
    from typer.testing import CliRunner

    from warroom.cli.main import app

    config = write_config(tmp_path, sqlite_url)
    result = CliRunner().invoke(app, args, env={"WARROOM_CONFIG": str(config), "WARROOM_URL": ""})
    assert result.exit_code == 2
    assert word in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "warroom.db").exists()


def test_serve_with_workers_runs_that_many_processes_on_one_port(
    postgres_url: str, tmp_path: Path, procs: Procs
) -> None:
    server, pids = start_workers(procs, write_config(tmp_path, postgres_url), 2)
    headers = {"Authorization": f"Bearer {admin_token(server)}"}
    with httpx.Client(base_url=server.url, headers=headers) as client:
        for n in range(8):
            answer = client.post("/api/v1/incidents", json={"title": f"Two processes #{n}"})
            assert answer.status_code == 201, answer.text
        assert len(client.get("/api/v1/incidents").json()) == 8
    assert len(set(pids)) == 2 and "2 server processes share port" in server.proc.text()


def test_a_replica_whose_database_does_not_answer_exits_3_with_one_line(tmp_path: Path) -> None:
    nobody = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/warroom?connect_timeout=2"
    config = write_config(tmp_path, nobody)
    done = subprocess.run(
        [WARROOM, "serve", "--port", str(free_port())],
        env=warroom_env(config),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3  # systemd restarts it; a newer schema (1) it does not
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: the database does not answer (") and "Traceback" not in done.stdout
