"""The outbox page for admins: failing and dead deliveries by channel with their last
error, attempts and next try, and a Retry button that posts and redirects back."""

from __future__ import annotations

from pathlib import Path

from tests.comms.support import Received
from tests.web.conftest import csrf_of, log_in
from tests.web.subscribe_world import World, subscribe_world
from warroom.services import operations as ops
from warroom.services.comms import operations as comms


def failing_and_dead(world: World) -> None:
    def respond(request: Received) -> tuple[int, dict[str, str]]:
        return (503, {}) if request.path.endswith("?flaky") else (400, {})

    world.receiver.respond = respond
    assert world.subscribe(kind="webhook", url=world.receiver.url).status_code == 201
    assert world.subscribe(kind="webhook", url=world.receiver.url + "?flaky").status_code == 201
    ref = str(ops.declare(world.app.context, "pager", {"title": "t", "services": "checkout"})["id"])
    ops.update(world.app.context, "lee", ref, {"text": "We are on it.", "audience": "public"})
    world.deliver()


def test_admins_see_failing_and_dead_deliveries_and_retry_them(tmp_path: Path, database_url: str) -> None:
    with subscribe_world(tmp_path, database_url) as world:
        failing_and_dead(world)
        client = world.client
        assert client.get("/admin/outbox").status_code == 303  # not logged in: to the login
        csrf = log_in(client, world.app, "admin", "root")
        page = client.get("/admin/outbox")
        assert page.status_code == 200
        html = page.text
        assert 'href="/admin/outbox">Outbox</a>' in html
        assert "subscriber:1" in html and "subscriber:2" in html
        assert "HTTP 400" in html and "permanent refusal" in html  # dead
        assert "HTTP 503" in html and "failing" in html  # to be retried
        assert html.count(">Retry</button>") == 2 and "Retry all dead" in html

        [dead] = comms.outbox_list(world.app.context, {"status": "dead"})
        answer = client.post("/admin/outbox/retry", data={"id": str(dead["id"]), "csrf_token": csrf})
        assert answer.status_code == 303 and answer.headers["location"] == "/admin/outbox?retried=1"
        after = client.get(answer.headers["location"]).text
        assert "1 delivery is due again" in after
        assert comms.outbox_list(world.app.context, {"status": "dead"}) == []

        # Bad input: a clear refusal and nothing retried.
        for bad in ("abc", "-1", "9" * 30, "1; DROP TABLE deliveries"):
            refused = client.post("/admin/outbox/retry", data={"id": bad, "csrf_token": csrf})
            assert refused.status_code == 422, bad
            assert "Not done:" in refused.text
        forged = client.post("/admin/outbox/retry", data={"all_dead": "1", "csrf_token": "forged"})
        assert forged.status_code == 403 and "expired" in forged.text


def test_the_outbox_page_is_for_admins_only(tmp_path: Path, sqlite_url: str) -> None:
    with subscribe_world(tmp_path, sqlite_url) as world:
        csrf = log_in(world.client, world.app, "responder", "alice")
        assert 'href="/admin/outbox"' not in world.client.get("/").text
        assert world.client.get("/admin/outbox").status_code == 403
        refused = world.client.post("/admin/outbox/retry", data={"all_dead": "1", "csrf_token": csrf})
        assert refused.status_code == 403
        assert csrf_of(world.client.get("/").text)
