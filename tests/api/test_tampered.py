"""A timeline changed outside warroom shows on every read and takes no more events:
the API's ``chain`` field, a 409 ``broken-chain`` on writes, the room's banner."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, text

from tests.api.conftest import Api
from tests.web.conftest import log_in, web_app


def _forge_fact(api: Api, incident: int, seq: int) -> None:
    engine = create_engine(api.app.settings.database_url)
    forged = json.dumps({"ref": "F1", "source": "Grafana", "text": "all fine"}, separators=(",", ":"))
    with engine.begin() as connection:
        statement = "UPDATE events SET payload = :p WHERE incident = :i AND seq = :s"
        assert connection.execute(text(statement), {"p": forged, "i": incident, "s": seq}).rowcount == 1
    engine.dispose()


def test_the_api_says_where_the_chain_breaks_and_refuses_to_append(api: Api) -> None:
    api.declare()
    assert (
        api.post("/api/v1/incidents/INC-1/facts", {"text": "5xx at 37%", "source": "Grafana"}).status_code
        == 200
    )
    assert api.get("/api/v1/incidents/INC-1").json()["chain"] == {"intact": True}
    _forge_fact(api, 1, 2)
    chain = api.get("/api/v1/incidents/INC-1").json()["chain"]
    assert (chain["intact"], chain["broken_at"], chain["kind"]) == (False, 2, "fact_recorded")
    refused = api.post("/api/v1/incidents/INC-1/notes", {"text": "more"})
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/broken-chain") and "warroom verify" in refused.json()["detail"]
    assert api.get("/api/v1/incidents/INC-1").json()["version"] == 2
    verified = api.get("/api/v1/verify").json()
    assert (verified["ok"], verified["incidents_checked"], len(verified["breaks"])) == (False, 1, 1)


def test_the_room_shows_a_tampered_timeline(api: Api) -> None:
    from fastapi.testclient import TestClient

    api.declare()
    assert (
        api.post("/api/v1/incidents/INC-1/facts", {"text": "5xx at 37%", "source": "Grafana"}).status_code
        == 200
    )
    _forge_fact(api, 1, 2)
    with TestClient(web_app(api.app), follow_redirects=False) as browser:
        log_in(browser, api.app, "viewer")
        page = browser.get("/incidents/INC-1")
    assert page.status_code == 200
    assert "Timeline tampered: event #2 (fact_recorded)" in page.text and "warroom verify" in page.text
