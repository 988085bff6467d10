"""Server-sent events against a real uvicorn server (no browser needed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from warroom.bootstrap import App
from warroom.services import operations as ops
from warroom.services.identity import auth

from .browser import serving
from .conftest import csrf_of, web_app


@pytest.fixture
def logged_in(warroom_app: App) -> Iterator[tuple[httpx.Client, uvicorn.Server]]:
    with serving(web_app(warroom_app)) as (base, server), httpx.Client(base_url=base, timeout=10) as client:
        plain, _ = auth.create_token(warroom_app.context, "watcher", "viewer")
        client.post("/login", data={"token": plain, "csrf_token": csrf_of(client.get("/login").text)})
        yield client, server


def test_a_write_from_elsewhere_reaches_an_open_stream_within_2s(
    logged_in: tuple[httpx.Client, uvicorn.Server], warroom_app: App, incident: str
) -> None:
    client, _ = logged_in
    lines: list[tuple[float, str]] = []

    def read() -> None:
        with client.stream("GET", f"/incidents/{incident}/events?since=1") as answer:
            assert answer.headers["content-type"].startswith("text/event-stream")
            for line in answer.iter_lines():
                lines.append((time.monotonic(), line))
                if line.startswith("data: 2"):
                    return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.3)
    written = time.monotonic()
    ops.note(warroom_app.context, "cli", incident, {"text": "from the CLI"})
    reader.join(timeout=5)
    changed = [at for at, line in lines if line == "event: changed"]
    assert changed, lines
    assert changed[0] - written < 2.0
    assert ("id: 2" in [line for _, line in lines]) and lines[0][1] == "retry: 1000"


def test_the_stream_stops_when_the_client_goes_away(
    logged_in: tuple[httpx.Client, uvicorn.Server], incident: str
) -> None:
    client, server = logged_in
    with client.stream("GET", f"/incidents/{incident}/events?since=1") as answer:
        # Keep the line iterator: a discarded one is closed at once, and closing it closes
        # the response, so the server could see the client leave before the count below.
        lines = answer.iter_lines()
        assert next(lines) == "retry: 1000"
        assert len(server.server_state.tasks) == 1
    deadline = time.monotonic() + 3
    while server.server_state.tasks and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not server.server_state.tasks
