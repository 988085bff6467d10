"""The timeline is read a page at a time with a cursor."""

from __future__ import annotations

from tests.api.conftest import Api
from warroom.services.identity import auth
from warroom.services.oncall import directory

INC = "/api/v1/incidents/INC-1"


def test_pages_follow_the_next_cursor_to_the_end(api: Api) -> None:
    api.declare()
    for n in range(24):
        api.post(f"{INC}/notes", {"text": f"note {n}"})
    seen: list[int] = []
    after, pages = 0, 0
    while after is not None:
        page = api.get(f"{INC}/timeline", params={"after": after, "limit": 10}, as_="vic").json()
        seen += [e["seq"] for e in page["events"]]
        after, pages = page["next"], pages + 1
    assert seen == list(range(1, 26))
    assert pages == 3


def test_an_exactly_full_last_page_ends_with_an_empty_one(sqlite_api: Api) -> None:
    sqlite_api.declare()
    for n in range(9):
        sqlite_api.post(f"{INC}/notes", {"text": f"note {n}"})
    page = sqlite_api.get(f"{INC}/timeline?limit=10").json()
    assert page["next"] == 10
    assert sqlite_api.get(f"{INC}/timeline?after=10&limit=10").json() == {"events": [], "next": None}


def test_newest_first_pages_backwards_with_before(sqlite_api: Api) -> None:
    sqlite_api.declare()
    for n in range(6):
        sqlite_api.post(f"{INC}/notes", {"text": f"note {n}"})
    first = sqlite_api.get(f"{INC}/timeline?newest_first=true&limit=4").json()
    assert [e["seq"] for e in first["events"]] == [7, 6, 5, 4]
    rest = sqlite_api.get(f"{INC}/timeline?newest_first=true&limit=4&before={first['next']}").json()
    assert [e["seq"] for e in rest["events"]] == [3, 2, 1]
    assert rest["next"] is None


def test_events_carry_the_hash_chain(sqlite_api: Api) -> None:
    sqlite_api.declare()
    sqlite_api.post(f"{INC}/notes", {"text": "x"})
    first, second = sqlite_api.get(f"{INC}/timeline").json()["events"]
    assert second["prev_hash"] == first["hash"]
    assert set(first) == {
        "incident",
        "seq",
        "kind",
        "payload",
        "actor",
        "via",
        "actor_name",
        "occurred_at",
        "recorded_at",
        "prev_hash",
        "hash",
        "description",
    }
    assert first["description"].startswith("declared ")


def test_events_name_the_person_and_the_service_acting_for_them(api: Api) -> None:
    ctx = api.app.context
    directory.put_person(ctx, {"handle": "alice", "name": "Alice Ng"})
    bot, _ = auth.create_token(ctx, "deploy-bot", "responder", owner="alice")
    api.declare()
    noted = api.client.post(
        f"{INC}/notes", json={"text": "v2 rolled out"}, headers={"Authorization": f"Bearer {bot}"}
    )
    assert noted.status_code == 200, noted.text
    declared, note = api.get(f"{INC}/timeline", as_="vic").json()["events"]
    assert (declared["actor"], declared["via"], declared["actor_name"]) == ("alice", None, "Alice Ng (alice)")
    assert (note["actor"], note["via"]) == ("alice", "deploy-bot")  # as recorded
    assert note["actor_name"] == "deploy-bot (service, owner Alice Ng)"
    room = api.get(INC, as_="vic").json()
    assert room["recent_events"][0]["actor_name"] == "deploy-bot (service, owner Alice Ng)"
    assert room["actor_names"]["alice"] == "Alice Ng (alice)"  # who set the milestones
    assert note["description"] == "note: v2 rolled out"
