"""Bad input to the subscription pages: each a clear 4xx in plain words, and nothing stored
(no subscriber, no outbox message, no mail)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.subscribe_world import World, subscribe_world
from warroom.integrations.subscriber_links import SignedSubscriberLinks
from warroom.services.comms import subscribers
from warroom.services.comms.outbox import outbox_counts
from warroom.web.subscriptions import ClientLimiter

SECRET = "a test secret that is long enough"


def _world(folder: Path) -> Iterator[World]:
    with subscribe_world(folder, f"sqlite:///{folder / 'warroom.db'}", allow_private_webhooks=False) as made:
        made.client.app.state.warroom_subscribe_limiter = ClientLimiter(burst=1000)  # type: ignore[attr-defined]
        yield made


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world for every refusal: each must leave it empty, which the tests check."""
    yield from _world(tmp_path_factory.mktemp("refusals"))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from _world(tmp_path)


def nothing_stored(world: World) -> None:
    assert subscribers.list_subscribers(world.app.context) == []
    assert outbox_counts(world.app.context).get("unrouted", 0) == 0


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"kind": "email", "email": "not-an-address"}, "not an email address"),
        ({"kind": "email", "email": "a@example.com\r\nBcc: all@example.com"}, "not an email address"),
        ({"kind": "email", "email": "x" * 5000 + "@example.com"}, "not an email address"),
        (
            {"kind": "email", "email": "a@example.com", "services": ["no-such"]},
            "not a service of this status page",
        ),
        ({"kind": "webhook", "url": "ftp://example.com/hook"}, "must start with https:// or http://"),
        ({"kind": "webhook", "url": "javascript:alert(1)"}, "must start with https:// or http://"),
        ({"kind": "webhook", "url": "http://169.254.169.254/latest/meta-data"}, "not a public address"),
        ({"kind": "webhook", "url": "http://127.0.0.1:8080/hook"}, "not a public address"),
        ({"kind": "webhook", "url": "http://[::1]/hook"}, "not a public address"),
        ({"kind": "webhook", "url": "http://localhost/hook"}, "not a public host"),
        ({"kind": "webhook", "url": "https://user:pw@example.com/hook"}, "user name or password"),
        ({"kind": "webhook", "url": "https://example.com/" + "a" * 3000}, "at most 2000 characters"),
        ({"kind": "pigeon", "email": "a@example.com"}, "choose email or webhook"),
    ],
)
def test_bad_subscriptions_are_refused_in_plain_words_and_store_nothing(
    refusing: World, form: dict[str, object], words: str
) -> None:
    answer = refusing.subscribe(**form)
    assert answer.status_code == 422, answer.text
    assert words in answer.text
    nothing_stored(refusing)


def test_a_webhook_host_that_does_not_resolve_is_refused(refusing: World) -> None:
    answer = refusing.subscribe(kind="webhook", url="http://status-hook.invalid/hook")
    assert answer.status_code == 422
    assert "does not resolve" in answer.text
    nothing_stored(refusing)


def test_one_confirmation_mail_per_address_per_hour(world: World) -> None:
    assert world.subscribe(kind="email", email="ana@example.com").status_code == 201
    again = world.subscribe(kind="email", email="ANA@example.com ")
    assert again.status_code == 429
    assert 3500 <= int(again.headers["Retry-After"]) <= 3600
    assert "less than an hour ago" in again.text
    world.deliver()
    assert len(world.mails_to("ana@example.com")) == 1
    assert len(subscribers.list_subscribers(world.app.context)) == 1


def test_a_flood_from_one_client_gets_429_with_retry_after(tmp_path: Path, sqlite_url: str) -> None:
    with subscribe_world(tmp_path, sqlite_url) as world:
        answers = [world.subscribe(kind="email", email=f"p{i}@example.com") for i in range(7)]
        assert [a.status_code for a in answers] == [201] * 5 + [429, 429]
        assert int(answers[-1].headers["Retry-After"]) > 0
        assert "too many subscribe requests" in answers[-1].text
        assert len(subscribers.list_subscribers(world.app.context)) == 5


def test_forged_altered_misused_and_expired_links_are_refused(world: World) -> None:
    assert world.subscribe(kind="email", email="ana@example.com").status_code == 201
    [pending] = subscribers.list_subscribers(world.app.context)
    links = SignedSubscriberLinks(SECRET)
    good = links.sign("confirm", pending["id"], "ana@example.com")
    old = SignedSubscriberLinks(SECRET, clock=lambda: time.time() - 3 * 86_400)
    cases = {
        "garbage": ("not valid", "/status/confirm?token=garbage"),
        "altered": ("not valid", f"/status/confirm?token={good[:-2]}xx"),
        "other key": (
            "not valid",
            "/status/confirm?token=" + SignedSubscriberLinks("other").sign("confirm", 1, "ana@example.com"),
        ),
        "wrong use": ("not valid", f"/status/unsubscribe?token={good}"),
        "expired": (
            "expired",
            "/status/confirm?token=" + old.sign("confirm", pending["id"], "ana@example.com"),
        ),
        "other person": (
            "no longer exists",
            "/status/confirm?token=" + links.sign("confirm", pending["id"], "eve@example.com"),
        ),
    }
    for name, (words, path) in cases.items():
        for method in ("GET", "POST"):
            answer = world.client.request(method, path)
            assert 400 <= answer.status_code < 500, (name, method, answer.status_code)
            assert words in answer.text, (name, answer.text)
            assert "Yes, send me" not in answer.text
    too_long = world.client.post("/status/confirm?token=" + "a" * 600)
    assert too_long.status_code == 422
    [still] = subscribers.list_subscribers(world.app.context)
    assert still["state"] == "pending"
    assert world.client.post(f"/status/confirm?token={good}").status_code == 200
    [now] = subscribers.list_subscribers(world.app.context)
    assert now["state"] == "confirmed"


def test_subscribing_is_refused_where_links_cannot_be_signed(tmp_path: Path, sqlite_url: str) -> None:
    from dataclasses import replace

    with subscribe_world(tmp_path, sqlite_url) as world:
        ctx = replace(world.app.context, load_subscriptions=lambda: None)
        with pytest.raises(subscribers.ValidationError, match="not available"):
            subscribers.subscribe_email(ctx, "ana@example.com")
