"""Subscribers of the public status page, end to end on SQLite and PostgreSQL: a real SMTP
server receives the confirmation and the update mails, the test follows their links, a
webhook receiver gets signed bodies, and every update goes through the outbox."""

from __future__ import annotations

from pathlib import Path

from tests.comms.support import verifier_from_the_docs
from tests.web.subscribe_world import World, link_in, path_of, subscribe_world
from warroom.services import operations as ops


def declare_on(world: World, service: str) -> str:
    view = ops.declare(
        world.app.context,
        "pager",
        {"title": "Secret internal title", "services": service, "customer_impact": "12%"},
    )
    return str(view["id"])


def confirmed_by_mail(world: World, address: str, services: list[str]) -> None:
    answer = world.subscribe(kind="email", email=address, services=services)
    assert answer.status_code == 201, answer.text
    assert "Check your mail" in answer.text
    world.deliver()
    [mail] = world.mails_to(address)
    assert mail["Subject"] == "Confirm your status page subscription"
    confirm = path_of(link_in(mail, "confirm"))
    page = world.client.get(confirm)  # a mail scanner's fetch changes nothing
    assert page.status_code == 200 and "Yes, send me status updates" in page.text
    done = world.client.post(confirm)
    assert done.status_code == 200 and "You are subscribed" in done.text, done.text


def test_email_double_opt_in_updates_by_service_and_one_click_unsubscribe(
    tmp_path: Path, database_url: str
) -> None:
    with subscribe_world(tmp_path, database_url) as world:
        # Pending: nothing but the confirmation reaches an unconfirmed address.
        world.subscribe(kind="email", email="lurker@example.com")
        confirmed_by_mail(world, "ana@example.com", ["checkout"])
        confirmed_by_mail(world, "bo@example.com", [])  # all services

        checkout = declare_on(world, "checkout")
        search = declare_on(world, "search")
        ops.update(
            world.app.context,
            "lee",
            checkout,
            {"text": "Checkout is failing for some.", "audience": "public"},
        )
        ops.update(world.app.context, "lee", search, {"text": "Search is slow.", "audience": "public"})
        ops.update(
            world.app.context, "lee", checkout, {"text": "internal only words", "audience": "internal"}
        )
        world.deliver()

        ana = [m["Subject"] for m in world.mails_to("ana@example.com")][1:]
        bo = sorted(m["Subject"] for m in world.mails_to("bo@example.com")[1:])
        assert ana == [f"{checkout} update: checkout"]
        assert bo == [f"{checkout} update: checkout", f"{search} update: search"]
        assert len(world.mails_to("lurker@example.com")) == 1  # its confirmation only
        update = world.mails_to("ana@example.com")[1]
        text = update.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Checkout is failing for some." in text
        assert "Secret internal title" not in text and "internal only words" not in text
        assert "storefront" not in text and "pager" not in text
        unsubscribe = link_in(update, "unsubscribe")
        assert update["List-Unsubscribe"] == f"<{unsubscribe}>"
        assert update["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        # Every update went through the outbox: one delivery per subscriber, listed.
        rows = ops_deliveries(world)
        assert {r["channel"] for r in rows if r["kind"] == "public_update"} == {
            "subscriber:2",
            "subscriber:3",
        }
        assert all(r["status"] == "delivered" for r in rows)

        # One click (RFC 8058: a POST to the List-Unsubscribe URL) and ana hears no more.
        assert world.client.get(path_of(unsubscribe)).status_code == 200
        gone = world.client.post(path_of(unsubscribe), data={"List-Unsubscribe": "One-Click"})
        assert gone.status_code == 200 and "Unsubscribed" in gone.text
        again = world.client.post(path_of(unsubscribe))
        assert again.status_code == 404 and "no longer exists" in again.text

        # The final word on resolve reaches the remaining subscriber.
        ops.resolve(
            world.app.context,
            "lee",
            checkout,
            {
                "summary": "fixed",
                "impact_stopped": True,
                "risk_controlled": True,
                "final_update": "All good now.",
            },
        )
        world.deliver()
        assert len(world.mails_to("ana@example.com")) == 2
        last = world.mails_to("bo@example.com")[-1]
        assert last["Subject"] == f"{checkout} resolved: checkout"
        assert "All good now." in last.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def ops_deliveries(world: World) -> list[dict[str, object]]:
    from warroom.services.comms import operations as comms

    return comms.outbox_list(world.app.context, {"status": "all", "limit": 100})


def test_a_webhook_subscriber_gets_signed_bodies_it_can_verify(tmp_path: Path, database_url: str) -> None:
    with subscribe_world(tmp_path, database_url) as world:
        answer = world.subscribe(kind="webhook", url=world.receiver.url, services=["search"])
        assert answer.status_code == 201, answer.text
        secret = answer.text.split('<code class="wrap secret">', 1)[1].split("</code>", 1)[0]
        search = declare_on(world, "search")
        checkout = declare_on(world, "checkout")
        ops.update(world.app.context, "lee", checkout, {"text": "Not for you.", "audience": "public"})
        ops.update(world.app.context, "lee", search, {"text": "Search recovers.", "audience": "public"})
        report = world.deliver()
        assert report.dead == 0
        [request] = world.receiver.requests
        verify = verifier_from_the_docs()
        headers = request.headers
        assert verify(secret, headers["X-Warroom-Timestamp"], headers["X-Warroom-Signature"], request.body)
        assert not verify(
            "another secret", headers["X-Warroom-Timestamp"], headers["X-Warroom-Signature"], request.body
        )
        body = request.json()
        assert body["kind"] == "public_update" and body["text"] == "Search recovers."
        assert body["services"] == ["search"] and body["team"] is None and body["severity"] is None
        assert body["unsubscribe"].startswith("http://testserver/status/unsubscribe?token=")
        gone = world.client.post(path_of(body["unsubscribe"]))
        assert gone.status_code == 200
        ops.update(world.app.context, "lee", search, {"text": "Again.", "audience": "public"})
        world.deliver()
        assert len(world.receiver.requests) == 1
