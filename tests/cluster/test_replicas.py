"""Three replicas on one PostgreSQL database behind HAProxy (deploy/haproxy.cfg): one
state whichever replica answers, idempotency keys and logins that hold on every replica,
and a change through one replica live in a room served by another within 2 s."""

from __future__ import annotations

import re
import threading
import time
import uuid

import httpx

from tests.cluster.harness import Cluster, answers, wait_until


def test_the_balancer_spreads_requests_over_three_replicas_that_share_one_state(cluster: Cluster) -> None:
    titles = [f"Replica spread {uuid.uuid4().hex[:6]} #{n}" for n in range(6)]
    with cluster.api() as client:
        refs = []
        for title in titles:
            answer = client.post("/api/v1/incidents", json={"title": title, "services": ["checkout"]})
            assert answer.status_code == 201, answer.text
            refs.append(answer.json()["id"])
    for replica in cluster.replicas:
        with cluster.api(replica.url) as direct:
            seen = {i["title"] for i in direct.get("/api/v1/incidents", params={"limit": 500}).json()}
        assert set(titles) <= seen, replica.proc.name
    # Spread (leastconn is round robin among equally loaded replicas): each served some.
    for replica in cluster.replicas:
        assert re.search(r'"POST /api/v1/incidents HTTP/1\.1" 201', replica.proc.text()), replica.proc.name


def test_a_retried_post_on_another_replica_replays_and_creates_nothing(cluster: Cluster) -> None:
    key = uuid.uuid4().hex
    body = {"title": f"Idempotent across replicas {key[:6]}", "services": ["payments"]}
    answers_ = []
    for replica in cluster.replicas:
        with cluster.api(replica.url) as client:
            answers_.append(client.post("/api/v1/incidents", json=body, headers={"Idempotency-Key": key}))
    assert [a.status_code for a in answers_] == [201, 201, 201]
    assert [a.headers.get("Idempotent-Replayed") for a in answers_] == [None, "true", "true"]
    assert len({a.json()["id"] for a in answers_}) == 1
    with cluster.api() as client:
        listed = client.get("/api/v1/incidents", params={"limit": 500}).json()
    assert sum(i["title"] == body["title"] for i in listed) == 1
    # The same key with another body is refused on any replica, and stores nothing.
    with cluster.api(cluster.replicas[1].url) as client:
        clash = client.post(
            "/api/v1/incidents", json=body | {"title": "something else"}, headers={"Idempotency-Key": key}
        )
    assert clash.status_code == 422 and clash.headers["content-type"].startswith("application/problem+json")


def test_the_same_key_sent_to_three_replicas_at_once_declares_once(cluster: Cluster) -> None:
    key = uuid.uuid4().hex
    body = {"title": f"Raced across replicas {key[:6]}"}
    barrier = threading.Barrier(len(cluster.replicas))
    answers_: list[httpx.Response] = []

    def post(url: str) -> None:
        with cluster.api(url) as client:
            barrier.wait(10)
            answers_.append(client.post("/api/v1/incidents", json=body, headers={"Idempotency-Key": key}))

    threads = [threading.Thread(target=post, args=(r.url,)) for r in cluster.replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # One runs; the others replay its answer or are told it is still running (409, retry).
    assert sorted(a.status_code for a in answers_) in ([201, 201, 201], [201, 201, 409], [201, 409, 409])
    assert len({a.json()["id"] for a in answers_ if a.status_code == 201}) == 1
    with cluster.api() as client:
        again = client.post("/api/v1/incidents", json=body, headers={"Idempotency-Key": key})
        listed = client.get("/api/v1/incidents", params={"limit": 500}).json()
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert sum(i["title"] == body["title"] for i in listed) == 1


def login(base: str, token: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=10)
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None, page.text[:500]
    answer = client.post("/login", data={"token": token, "csrf_token": csrf.group(1), "next": "/"})
    assert answer.status_code == 303, answer.text[:300]
    return client


def test_a_change_through_one_replica_is_live_in_a_room_on_another_within_two_seconds(
    cluster: Cluster,
) -> None:
    a, b = cluster.replicas[0], cluster.replicas[1]
    with cluster.api(a.url) as client:
        ref = client.post("/api/v1/incidents", json={"title": "Live across replicas"}).json()["id"]
    # Logged in through A, watching through B: the session holds on every replica.
    browser = login(a.url, cluster.token)
    browser.base_url = httpx.URL(b.url)
    received: list[tuple[float, str]] = []
    opened = threading.Event()

    def watch() -> None:
        with browser.stream("GET", f"/incidents/{ref}/events", timeout=15) as stream:
            assert stream.status_code == 200
            for line in stream.iter_lines():
                opened.set()
                if line.startswith("event: changed"):
                    received.append((time.monotonic(), line))
                    return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert opened.wait(10)
    time.sleep(0.3)  # the stream has read its baseline version
    exposition = httpx.get(f"{b.url}/metrics").text
    assert "warroom_change_feed_connected 1" in exposition  # woken by NOTIFY, not by polling
    assert "warroom_live_streams 1" in exposition
    with cluster.api(a.url) as client:
        sent = time.monotonic()
        fact = client.post(f"/api/v1/incidents/{ref}/facts", json={"text": "5xx at 12%", "source": "grafana"})
        assert fact.status_code == 200, fact.text
    watcher.join(5)
    browser.close()
    assert received, "no change reached the room on the other replica"
    latency = received[0][0] - sent
    assert latency < 2.0, f"{latency:.2f} s"


def test_the_balancer_takes_a_stopped_replica_out_and_loses_no_request(cluster: Cluster) -> None:
    # Last in this module: it stops one replica.
    gone = cluster.replicas[2]
    gone.proc.stop()
    statuses = []
    with cluster.api() as client:
        for n in range(12):
            statuses.append(
                client.post("/api/v1/incidents", json={"title": f"After a stop #{n}"}).status_code
            )
    assert statuses == [201] * 12
    assert not answers(f"{gone.url}/readyz")
    wait_until(lambda: answers(f"{cluster.url}/readyz"), "the balancer to answer", cluster.procs)
