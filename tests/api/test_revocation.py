"""A revoked ingest token stops opening webhooks at once on the server that revoked it,
and within the token cache's time (``auth.REMEMBER_SECONDS``) elsewhere, as
``warroom token revoke --help`` says."""

from __future__ import annotations

import time
from typing import Any

from tests.api.conftest import Api
from warroom.services.identity import auth

AM = "/hooks/alertmanager"
FIRING: dict[str, Any] = {
    "version": "4",
    "groupKey": '{}:{alertname="CheckoutErrors"}',
    "status": "firing",
    "receiver": "warroom",
    "groupLabels": {"alertname": "CheckoutErrors"},
    "commonLabels": {},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "CheckoutErrors", "service": "checkout", "severity": "warning"},
            "annotations": {"summary": "5xx above 2%"},
            "startsAt": "2026-11-26T09:58:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": "c0ffee0000000001",
        }
    ],
}


def hook(api: Api) -> int:
    answer = api.client.post(AM, json=FIRING, headers=api.auth("hook"))
    assert answer.status_code in (200, 401), answer.text
    return int(answer.status_code)


def test_a_token_revoked_through_the_api_stops_opening_webhooks_at_once(api: Api) -> None:
    assert hook(api) == 200  # its lookup is remembered now
    assert api.client.delete("/api/v1/tokens/hook", headers=api.auth("root")).status_code == 200
    assert hook(api) == 401


def test_a_token_revoked_by_another_process_stops_within_the_cache_time(api: Api) -> None:
    assert hook(api) == 200
    api.client.app.state.hooks.tokens.ttl = 0.3  # type: ignore[attr-defined]
    hook_id = next(t.id for t in auth.list_tokens(api.app.context) if t.name == "hook")
    with api.app.context.uow() as uow:  # what `warroom token revoke` does in its own process
        uow.tokens.revoke(hook_id, api.clock.now())
        uow.commit()
    assert hook(api) == 200  # remembered: this process did not see the revocation
    time.sleep(0.35)
    assert hook(api) == 401


def test_the_help_says_how_long_other_processes_take() -> None:
    from warroom.cli.tokens import revoke

    assert revoke.__doc__ is not None
    text = " ".join(revoke.__doc__.split())
    assert f"within {auth.REMEMBER_SECONDS:g} seconds" in text and "at once" in text
