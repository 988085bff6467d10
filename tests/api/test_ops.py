"""/healthz, /readyz and /metrics."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from tests.api.conftest import Api, Clock, make_api
from tests.conftest import dispose
from warroom.bootstrap import App


def test_healthz_and_readyz_answer_without_a_token(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/readyz").json()["status"] == "ready"


def test_readyz_is_503_when_the_database_is_gone(
    tmp_path: Path, build_app: Callable[..., App], clock: Clock
) -> None:
    db = tmp_path / "gone.db"
    app = build_app(f"sqlite:///{db}", clock=clock)
    api = make_api(app, clock)
    for leftover in tmp_path.glob("gone.db*"):
        leftover.unlink()
    db.mkdir()  # a directory where the file was: unopenable
    dispose(app)  # drop pooled connections to the old file
    answer = api.client.get("/readyz")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert api.client.get("/healthz").status_code == 200
    metrics = api.client.get("/metrics").text
    assert "warroom_database_up 0" in metrics


def test_metrics_count_requests_by_route_template_and_status(api: Api) -> None:
    api.declare()
    api.get("/api/v1/incidents/INC-1")
    api.get("/api/v1/incidents/INC-7")
    api.client.get("/api/v1/incidents")
    answer = api.client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = answer.text
    assert 'warroom_http_requests_total{method="GET",route="/api/v1/incidents/{ref}",status="200"} 1' in text
    assert 'warroom_http_requests_total{method="GET",route="/api/v1/incidents/{ref}",status="404"} 1' in text
    assert 'warroom_http_requests_total{method="GET",route="/api/v1/incidents",status="401"} 1' in text
    assert 'warroom_http_requests_total{method="POST",route="/api/v1/incidents",status="201"} 1' in text
    assert "INC-7" not in text, "raw paths never become labels"
    bucket = re.search(
        r'warroom_http_request_duration_seconds_bucket\{method="GET",route="/api/v1/incidents/\{ref\}",'
        r'status="200",le="\+Inf"\} (\d+)',
        text,
    )
    assert bucket is not None and bucket.group(1) == "1"
    assert "# TYPE warroom_http_request_duration_seconds histogram" in text


def test_metrics_show_open_incidents_by_severity(api: Api) -> None:
    api.declare(customer_impact="12%")
    api.declare(customer_impact="30%")
    api.declare(customer_impact="40%")
    text = api.client.get("/metrics").text
    assert 'warroom_open_incidents{severity="SEV1"} 2' in text
    assert 'warroom_open_incidents{severity="SEV2"} 1' in text
    assert 'warroom_open_incidents{severity="SEV4"} 0' in text
    assert "warroom_database_up 1" in text


def test_the_exposition_parses_line_by_line(sqlite_api: Api) -> None:
    sqlite_api.declare()
    sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? -?[0-9.e+]+$')
    for line in sqlite_api.client.get("/metrics").text.splitlines():
        assert line.startswith("# ") or sample.match(line), line
