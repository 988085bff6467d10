"""An HA pair of real Alertmanagers (clustered over loopback) sends every notification
twice, through HAProxy to three replicas: one alert record, one firing and one resolved
transition per alert, one incident per declaring rule, however the copies interleave."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.cluster.harness import (
    Cluster,
    postgres_database,
    processes,
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


@pytest.fixture(scope="module")
def ha(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, list[str]]]:
    folder = tmp_path_factory.mktemp("ha")
    with postgres_database() as url, processes(folder) as started:
        cluster = start_cluster(started, url, extra="interval_seconds = 1\n" + DECLARE)
        token = cluster.ingest_token("alertmanager:ha")
        managers = start_alertmanager_pair(started, f"{cluster.url}/hooks/alertmanager", token)
        yield cluster, managers


def the_alerts(now: datetime, *, resolved: bool) -> list[dict[str, object]]:
    ends = (now if resolved else now + timedelta(hours=1)).isoformat()
    starts = (now - timedelta(minutes=5)).isoformat()
    checkout = [
        {
            "labels": {
                "alertname": "CheckoutDown",
                "service": "checkout",
                "region": f"r{n}",
                "severity": "critical",
            }
        }
        for n in range(CHECKOUT)
    ]
    noise = [
        {"labels": {"alertname": f"DiskFilling{n % 4}", "service": f"store{n % 6}", "instance": f"i{n}",
                    "severity": "warning"}}
        for n in range(NOISE)
    ]  # fmt: skip
    return [
        a | {"startsAt": starts, "endsAt": ends, "annotations": {"summary": "x"}} for a in checkout + noise
    ]


def post_to_both(managers: list[str], body: list[dict[str, object]]) -> None:
    for url in managers:
        answer = httpx.post(f"{url}/api/v2/alerts", json=body, timeout=5)
        assert answer.status_code == 200, answer.text


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


def test_an_ha_pair_fires_and_resolves_each_alert_once_across_three_replicas(
    ha: tuple[Cluster, list[str]],
) -> None:
    cluster, managers = ha
    total = CHECKOUT + NOISE
    now = datetime.now(UTC)
    post_to_both(managers, the_alerts(now, resolved=False))
    wait_until(lambda: counts(cluster.database_url)["firing"] >= total, "every alert firing", cluster.procs)
    post_to_both(managers, the_alerts(datetime.now(UTC), resolved=True))
    wait_until(
        lambda: counts(cluster.database_url)["resolved_alerts"] == total,
        "every alert resolved",
        cluster.procs,
    )
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
    groups = 1 + len({(f"DiskFilling{n % 4}", f"store{n % 6}") for n in range(NOISE)})
    # One Alertmanager alone sends each group twice (firing, resolved): more than that means
    # both delivered, so duplicates really raced across the replicas.
    assert len(posts) > 2 * groups, len(posts)
    assert all(" 200 " in line for line in posts), [line for line in posts if " 200 " not in line][:3]
    assert len({name for name in ("warroom1", "warroom2", "warroom3") if any(name in p for p in posts)}) == 3
