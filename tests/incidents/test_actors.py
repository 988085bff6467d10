"""One label per recorded actor, whichever surface shows it."""

from __future__ import annotations

import pytest

from warroom.domain.incidents.actors import ActorNames, split_actor

NAMES = ActorNames(
    people={"alice": "Alice Ng", "bob": "bob"},
    services={"deploy-bot": "alice", "orphan-bot": "zed", "alice": "bob"},
)


@pytest.mark.parametrize(
    ("actor", "label"),
    [
        ("alice", "Alice Ng (alice)"),  # a person wins over a token of the same name
        ("bob", "bob"),  # a name equal to the handle is not said twice
        ("alice via deploy-bot", "deploy-bot (service, owner Alice Ng)"),
        ("zed via cron", "cron (service, owner zed)"),  # an owner the directory lost: the handle
        ("deploy-bot", "deploy-bot (service, owner Alice Ng)"),  # recorded before owners were named
        ("orphan-bot", "orphan-bot (service, owner zed)"),
        ("alertmanager", "alertmanager"),  # a token nobody owns: as recorded
        ("pager", "pager"),  # known to neither: as recorded
        (" via x", " via x"),
    ],
)
def test_an_actor_is_labelled_from_the_directory_and_the_tokens(actor: str, label: str) -> None:
    assert NAMES.label(actor) == label


def test_labels_skip_empty_actors_and_repeat_none() -> None:
    assert NAMES.labels(["alice", None, "", "alice", "pager"]) == {
        "alice": "Alice Ng (alice)",
        "pager": "pager",
    }


def test_split_actor_keeps_a_lone_via_as_recorded() -> None:
    assert split_actor("alice via deploy-bot") == ("alice", "deploy-bot")
    assert split_actor("via") == ("via", None)
