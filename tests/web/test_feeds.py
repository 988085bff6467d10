"""The status page's Atom feed and JSON Feed, parsed by feedparser: public updates only,
per page and per service."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import jsonschema

from tests.web.subscribe_world import World, subscribe_world
from warroom.services import operations as ops

# What https://www.jsonfeed.org/version/1.1/ requires of a feed and of each item, and the
# types of the optional fields warroom writes.
JSON_FEED_1_1 = {
    "type": "object",
    "required": ["version", "title", "items"],
    "properties": {
        "version": {"const": "https://jsonfeed.org/version/1.1"},
        "title": {"type": "string"},
        "home_page_url": {"type": "string", "format": "uri"},
        "feed_url": {"type": "string", "format": "uri"},
        "language": {"type": "string"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id"],
                "anyOf": [{"required": ["content_text"]}, {"required": ["content_html"]}],
                "properties": {
                    "id": {"type": "string"},
                    "url": {"type": "string"},
                    "title": {"type": "string"},
                    "content_text": {"type": "string"},
                    "date_published": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}T"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}


def published(world: World) -> tuple[str, str]:
    ctx = world.app.context
    checkout = str(
        ops.declare(
            ctx, "pager", {"title": "Secret title", "services": "checkout", "customer_impact": "12%"}
        )["id"]
    )
    search = str(
        ops.declare(ctx, "pager", {"title": "Hidden title", "services": "search", "customer_impact": "12%"})[
            "id"
        ]
    )
    ops.update(
        ctx, "lee", checkout, {"text": "Checkout fails for some <b>EU</b> users.", "audience": "public"}
    )
    ops.update(ctx, "lee", checkout, {"text": "private words", "audience": "internal"})
    ops.update(ctx, "lee", search, {"text": "Search is slow.", "audience": "public"})
    ops.update(ctx, "lee", checkout, {"text": "A fix is rolling out.", "audience": "public"})
    return checkout, search


def test_the_atom_and_json_feeds_carry_public_updates_per_page_and_per_service(
    tmp_path: Path, database_url: str
) -> None:
    with subscribe_world(tmp_path, database_url) as world:
        checkout, search = published(world)
        answer = world.client.get("/status/feed.atom")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/atom+xml")
        feed = feedparser.parse(answer.content)
        assert not feed.bozo, feed.get("bozo_exception")
        assert feed.version == "atom10"
        assert [e.summary for e in feed.entries] == [
            "A fix is rolling out.",
            "Search is slow.",
            "Checkout fails for some <b>EU</b> users.",
        ] or [e.content[0].value for e in feed.entries] == [
            "A fix is rolling out.",
            "Search is slow.",
            "Checkout fails for some <b>EU</b> users.",
        ]
        assert feed.entries[0].title.startswith(f"{checkout} ")
        assert len({e.id for e in feed.entries}) == 3
        for secret in ("Secret title", "Hidden title", "private words", "pager", "storefront"):
            assert secret not in answer.text

        one = feedparser.parse(world.client.get("/status/feed.atom", params={"service": "search"}).content)
        assert [e.title for e in one.entries] == [f"{search} investigating: search"]

        document = world.client.get("/status/feed.json")
        assert document.headers["content-type"].startswith("application/feed+json")
        data = json.loads(document.content)
        assert data["version"] == "https://jsonfeed.org/version/1.1"
        assert data["items"][0]["content_text"] == "A fix is rolling out."
        jsonschema.validate(data, JSON_FEED_1_1)  # feedparser 6 reads no JSON Feed
        assert len(data["items"]) == 3
        only = json.loads(world.client.get("/status/feed.json?service=checkout").content)
        assert {tuple(item["tags"]) for item in only["items"]} == {("checkout",)}

        page = world.client.get("/status").text
        assert 'type="application/atom+xml"' in page and 'href="/status/subscribe"' in page


def test_a_feed_of_an_unknown_service_is_404_and_a_hostile_name_is_not_echoed_raw(
    tmp_path: Path, sqlite_url: str
) -> None:
    with subscribe_world(tmp_path, sqlite_url) as world:
        answer = world.client.get("/status/feed.atom", params={"service": "<script>x</script>"})
        assert answer.status_code == 404
        assert "<script>x" not in answer.text
        assert world.client.get("/status/feed.json", params={"service": "x" * 200}).status_code == 422
