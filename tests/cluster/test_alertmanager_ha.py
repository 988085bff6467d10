"""An HA pair of real Alertmanagers (clustered over loopback) sends every notification
twice, through HAProxy to three replicas: one alert record, one firing and one resolved
transition per alert, one incident per declaring rule, however the copies interleave.

The alerts come from a real Prometheus evaluating rules over series it scrapes from a
target this test serves: the test turns the series on (the rules fire) and off (they
resolve), and Prometheus notifies both Alertmanagers, as an HA pair is configured."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.cluster.harness import (
    Cluster,
    Procs,
    answers,
    free_port,
    postgres_database,
    processes,
    require,
    start_alertmanager_pair,
    start_cluster,
    wait_until,
)
from warroom.storage.alert_tables import alert_transitions, alerts
from warroom.storage.db import make_engine
from warroom.storage.tables import incidents

DECLARE = """
[[alerts.declare]]
name = "checkout down"
matchers = ['alertname="CheckoutDown"']
severity = "SEV2"
"""

CHECKOUT = 8  # one alert per region, all of one declaring rule
NOISE = 24  # warnings on other services: stored, never declared


RULES = """
groups:
  - name: ha
    interval: 1s
    rules:
      - alert: CheckoutDown
        expr: ha_failing{kind="checkout"} > 0
        labels: {severity: critical}
        annotations: {summary: "checkout down in {{ $labels.region }}"}
      - alert: DiskFilling
        expr: ha_failing{kind="disk"} > 0
        labels: {severity: warning}
        annotations: {summary: "disk filling on {{ $labels.instance }}"}
"""


class Target:
    """The series Prometheus scrapes: ``ha_failing`` per alert, 1 while it should fire."""

    def __init__(self) -> None:
        self.failing = False
        checkout = [f'kind="checkout",service="checkout",region="r{n}"' for n in range(CHECKOUT)]
        noise = [f'kind="disk",service="store{n % 6}",instance="i{n}"' for n in range(NOISE)]
        self.series = checkout + noise

    def exposition(self) -> bytes:
        value = int(self.failing)
        lines = ["# TYPE ha_failing gauge", *(f"ha_failing{{{labels}}} {value}" for labels in self.series)]
        return ("\n".join(lines) + "\n").encode()


@contextmanager
def serve_target(target: Target) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = target.exposition()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="ha-target", daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def start_prometheus(procs: Procs, target: str, managers: list[str]) -> str:
    """A real Prometheus scraping ``target`` every second, its rules evaluated every second,
    notifying both Alertmanagers of the pair."""
    binary = require("prometheus", "prometheus")
    rules = procs.folder / "rules.yml"
    rules.write_text(RULES)
    peers = ", ".join(f'"{url.removeprefix("http://")}"' for url in managers)
    config = procs.folder / "prometheus.yml"
    config.write_text(
        f"""
global: {{scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}}
rule_files: ["{rules}"]
alerting:
  alertmanagers:
    - static_configs: [{{targets: [{peers}]}}]
scrape_configs:
  - job_name: ha
    static_configs: [{{targets: ["{target}"]}}]
"""
    )
    port = free_port()
    data = procs.folder / "prometheus-data"
    data.mkdir()
    procs.start(
        "prometheus",
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
    )
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: answers(f"{url}/-/ready"), "Prometheus ready", procs)
    return url


@dataclass
class Ha:
    cluster: Cluster
    managers: list[str]
    prometheus: str
    target: Target


@pytest.fixture(scope="module")
def ha(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ha]:
    folder = tmp_path_factory.mktemp("ha")
    target = Target()
    with postgres_database() as url, processes(folder) as started, serve_target(target) as address:
        cluster = start_cluster(started, url, extra="interval_seconds = 1\n" + DECLARE)
        token = cluster.ingest_token("alertmanager:ha")
        managers = start_alertmanager_pair(started, f"{cluster.url}/hooks/alertmanager", token)
        prometheus = start_prometheus(started, address, managers)
        yield Ha(cluster, managers, prometheus, target)


def rule_alerts(prometheus: str) -> dict[str, int]:
    """How many of Prometheus' own alerts are in each state (pending, firing)."""
    try:
        found = httpx.get(f"{prometheus}/api/v1/alerts", timeout=2).json()["data"]["alerts"]
    except (httpx.HTTPError, ValueError, KeyError):
        return {}
    states: dict[str, int] = {}
    for alert in found:
        states[alert["state"]] = states.get(alert["state"], 0) + 1
    return states


def counts(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as db:
            per_status = dict(
                db.execute(
                    select(alert_transitions.c.status, func.count()).group_by(alert_transitions.c.status)
                ).all()
            )
            return {
                "alerts": db.execute(select(func.count()).select_from(alerts)).scalar_one(),
                "resolved_alerts": db.execute(
                    select(func.count()).select_from(alerts).where(alerts.c.status == "resolved")
                ).scalar_one(),
                "firing": per_status.get("firing", 0),
                "resolved": per_status.get("resolved", 0),
                "incidents": db.execute(select(func.count()).select_from(incidents)).scalar_one(),
                "max_per_alert": db.execute(
                    select(func.count()).select_from(alert_transitions).group_by(
                        alert_transitions.c.alert, alert_transitions.c.status
                    ).order_by(func.count().desc()).limit(1)
                ).scalar() or 0,
            }  # fmt: skip
    finally:
        engine.dispose()


def hook_posts(folder: Path) -> list[str]:
    """HAProxy's log lines of webhook deliveries (``option httplog``)."""
    return [
        line for line in (folder / "haproxy.log").read_text().splitlines() if "/hooks/alertmanager" in line
    ]


def test_an_ha_pair_fires_and_resolves_each_alert_once_across_three_replicas(ha: Ha) -> None:
    cluster = ha.cluster
    total = CHECKOUT + NOISE
    ha.target.failing = True  # the next scrape: every rule's series above 0, so they fire
    wait_until(lambda: rule_alerts(ha.prometheus).get("firing") == total, "Prometheus firing", cluster.procs)
    wait_until(lambda: counts(cluster.database_url)["firing"] >= total, "every alert firing", cluster.procs)
    ha.target.failing = False  # Prometheus resolves them and tells both Alertmanagers
    wait_until(
        lambda: counts(cluster.database_url)["resolved_alerts"] == total,
        "every alert resolved",
        cluster.procs,
    )
    assert rule_alerts(ha.prometheus) == {}
    found = counts(cluster.database_url)
    assert found == {
        "alerts": total,
        "resolved_alerts": total,
        "firing": total,
        "resolved": total,
        "incidents": 1,
        "max_per_alert": 1,
    }
    posts = hook_posts(cluster.procs.folder)
    groups = 1 + len({f"store{n % 6}" for n in range(NOISE)})  # by alertname and service
    # One Alertmanager alone sends each group twice (firing, resolved): more than that means
    # both delivered, so duplicates really raced across the replicas.
    assert len(posts) > 2 * groups, len(posts)
    assert all(" 200 " in line for line in posts), [line for line in posts if " 200 " not in line][:3]
    assert len({name for name in ("warroom1", "warroom2", "warroom3") if any(name in p for p in posts)}) == 3
