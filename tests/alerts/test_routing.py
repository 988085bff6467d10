"""Routing: an alert's labels to a catalog service and its team; pure decisions, no database."""

from __future__ import annotations

import pytest

from warroom.domain.alerts.routing import UNROUTED, AlertPolicyError, Route, Router
from warroom.domain.incidents.catalog import Catalog, Service, Team

from .conftest import CATALOG


def test_an_alert_routes_to_the_first_service_whose_matchers_all_match() -> None:
    route = Router(CATALOG).route({"alertname": "X", "service": "checkout"})
    assert route == Route("checkout", "storefront", 1, True)
    assert not route.ownership_unclear


def test_every_matcher_of_a_service_must_match() -> None:
    router = Router(CATALOG)
    assert router.route({"job": "payments-api", "env": "prod"}).service == "payments"
    staging = router.route({"job": "payments-api", "env": "staging"})
    assert staging.service == UNROUTED and staging.team == "sre" and staging.ownership_unclear


def test_a_service_label_naming_a_catalog_service_routes_there_without_matchers() -> None:
    route = Router(CATALOG).route({"alertname": "SlowQueries", "service": "search"})
    assert route == Route("search", "storefront", 2, True)


def test_an_alert_matching_nothing_goes_to_the_fallback_team_with_ownership_unclear() -> None:
    route = Router(CATALOG).route({"alertname": "DiskFull", "service": "billing-batch"})
    assert route == Route("billing-batch", "sre", None, False)
    assert route.ownership_unclear
    assert Router(CATALOG).route({"alertname": "DiskFull"}).service == UNROUTED


def test_without_a_fallback_team_an_unrouted_alert_has_no_team() -> None:
    catalog = Catalog(services=(Service("a", "t", matchers=('service="a"',)),), teams=(Team("t"),))
    assert Router(catalog).route({"service": "b"}).team is None


def test_a_catalog_matcher_that_does_not_parse_is_named() -> None:
    catalog = Catalog(services=(Service("a", "t", matchers=('job=~"(unclosed"',)),))
    with pytest.raises(AlertPolicyError, match=r"services\[a\]\.matchers\[0\]"):
        Router(catalog)


def test_remembered_routes_are_the_routes_the_matchers_give(monkeypatch: pytest.MonkeyPatch) -> None:
    """Routes are remembered by the values of the labels the matchers name (and
    ``service``): over many label sets, in any order and with the memory full and
    forgotten, each route is what the matchers decide afresh."""
    import random

    from warroom.domain.alerts import routing

    router = Router(CATALOG)
    rng = random.Random(7)
    values = {
        "service": ["checkout", "search", "billing-batch", "", " checkout "],
        "job": ["payments-api", "api", ""],
        "env": ["prod", "staging", ""],
        "alertname": ["X", "DiskFull"],
        "team": ["a", "b"],
    }
    for _ in range(3000):
        labels = {name: rng.choice(choices) for name, choices in values.items() if rng.random() < 0.7}
        assert router.route(labels) == router._route(labels), labels
    assert router._memo  # it did remember
    monkeypatch.setattr(routing, "MEMO_SIZE", 16)
    small = Router(CATALOG)
    for _ in range(300):
        labels = {name: rng.choice(choices) for name, choices in values.items()}
        labels["service"] = rng.choice(
            [*values["service"], *(f"svc-{n}" for n in range(40))]
        )  # more than it keeps
        assert small.route(labels) == small._route(labels)
    assert len(small._memo) <= routing.MEMO_SIZE
