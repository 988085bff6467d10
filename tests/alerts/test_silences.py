"""A silence names a service warroom knows (the catalog's, or one with waiting signals), as
printable text; anything else is refused and nothing is stored."""

from __future__ import annotations

import pytest

from tests.alerts.conftest import Hooks


@pytest.mark.parametrize(
    ("service", "status"),
    [("no-such-service", 404), ("check%1Bout", 422), ("check%C2%9Bout", 422), ("%20", 422)],
)
def test_a_silence_for_a_service_warroom_does_not_know_is_refused(
    sqlite_hooks: Hooks, service: str, status: int
) -> None:
    answer = sqlite_hooks.post(
        f"/api/v1/signals/{service}/silence", {"until": "30m", "reason": "noise"}, as_="alice"
    )
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    silenced = sqlite_hooks.get("/api/v1/signals?silenced=true").json()
    assert not any(group.get("silenced") for group in silenced)


def test_a_catalog_service_can_be_silenced(sqlite_hooks: Hooks) -> None:
    answer = sqlite_hooks.post(
        "/api/v1/signals/checkout/silence", {"until": "30m", "reason": "known noise"}, as_="alice"
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["service"] == "checkout"
