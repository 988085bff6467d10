"""The web room inside the real server composition (``server.create_app``)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from warroom.bootstrap import App
from warroom.server import create_app

from .conftest import log_in


def test_the_server_serves_the_room_next_to_the_api(warroom_app: App, incident: str) -> None:
    with TestClient(create_app(warroom_app), follow_redirects=False) as client:
        assert client.get("/status").status_code == 200
        csrf = log_in(client, warroom_app, "responder", "alice")
        room = client.get(f"/incidents/{incident}")
        assert room.status_code == 200 and "Checkout errors" in room.text
        answer = client.post(
            f"/incidents/{incident}/fact", data={"text": "t", "source": "s", "csrf_token": csrf}
        )
        assert answer.status_code == 303
        paths = client.get("/openapi.json").json()["paths"]
        assert not [p for p in paths if p.startswith(("/incidents", "/status", "/login"))]  # not API
