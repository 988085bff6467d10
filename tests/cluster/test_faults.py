"""Faults under load: a replica killed with SIGKILL in the middle of an ingest storm
through HAProxy loses no acknowledged alert and duplicates none (the balancer retries,
and so does the sender, as Alertmanager does on a 5xx or a broken connection)."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.cluster.harness import Cluster, postgres_database, processes, start_cluster
from warroom.storage.alert_tables import alert_transitions, alerts
from warroom.storage.db import make_engine

TEMPLATE = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures/webhooks/alertmanager_firing.json").read_text()
)
BODIES = 240
PER_BODY = 10
SENDERS = 6


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("faults")
    with postgres_database() as url, processes(folder) as started:
        yield start_cluster(started, url, extra="[alerts]\ndeclare = []")


def body(number: int) -> bytes:
    doc = copy.deepcopy(TEMPLATE)
    base = doc["alerts"][0]
    doc["alerts"] = [
        base
        | {
            "fingerprint": f"{number * PER_BODY + n:016x}",
            "labels": base["labels"] | {"service": f"svc{n}", "instance": f"10.1.{number}.{n}:9100"},
        }
        for n in range(PER_BODY)
    ]
    return json.dumps(doc).encode()


class Sender:
    """Posts bodies like Alertmanager: retries on a 5xx or a broken connection."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self.acknowledged: set[str] = set()
        self.retries = 0
        self.refused: list[int] = []
        self.lock = threading.Lock()

    def post(self, client: httpx.Client, number: int) -> None:
        payload = body(number)
        for _ in range(20):
            try:
                answer = client.post(
                    "/hooks/alertmanager", content=payload, headers={"Content-Type": "application/json"}
                )
            except httpx.HTTPError:
                answer = None
            if answer is not None and answer.status_code < 300:
                keys = {a["fingerprint"] for a in json.loads(payload)["alerts"]}
                with self.lock:
                    self.acknowledged |= keys
                return
            if answer is not None and answer.status_code < 500:
                self.refused.append(answer.status_code)
                return
            with self.lock:
                self.retries += 1
            time.sleep(0.05)
        self.refused.append(0)

    def run(self, numbers: list[int], started: threading.Event) -> None:
        with httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=10
        ) as c:
            for n in numbers:
                self.post(c, n)
                started.set()


def stored(database_url: str) -> dict[str, Any]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as db:
            fingerprints = set(db.execute(select(alerts.c.fingerprint)).scalars())
            per_alert = db.execute(
                select(func.count()).select_from(alert_transitions).group_by(alert_transitions.c.alert)
            ).scalars().all()  # fmt: skip
        return {"fingerprints": fingerprints, "most_transitions": max(per_alert, default=0)}
    finally:
        engine.dispose()


def test_a_replica_killed_during_an_ingest_storm_loses_and_duplicates_nothing(cluster: Cluster) -> None:
    sender = Sender(cluster.url, cluster.ingest_token("alertmanager:storm"))
    started = threading.Event()
    threads = [
        threading.Thread(target=sender.run, args=(list(range(s, BODIES, SENDERS)), started), daemon=True)
        for s in range(SENDERS)
    ]
    for thread in threads:
        thread.start()
    assert started.wait(30)
    while len(sender.acknowledged) < BODIES * PER_BODY // 4:
        time.sleep(0.02)
    victim = cluster.replicas[1]
    victim.proc.kill9()  # mid-storm: requests in flight on it break
    killed_at = len(sender.acknowledged)
    for thread in threads:
        thread.join(90)
    assert not any(t.is_alive() for t in threads)
    assert sender.refused == []
    assert killed_at < BODIES * PER_BODY  # the kill happened during the storm
    found = stored(cluster.database_url)
    assert len(sender.acknowledged) == BODIES * PER_BODY
    assert sender.acknowledged <= found["fingerprints"]  # 0 acknowledged alerts lost
    assert len(found["fingerprints"]) == BODIES * PER_BODY and found["most_transitions"] == 1  # 0 duplicated
