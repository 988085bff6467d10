"""The subscribers' pure rules: addresses, webhook URLs, services, who an update reaches,
and how often a confirmation mail may go out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warroom.domain.comms import subscribers as rules
from warroom.domain.comms.subscribers import Subscriber
from warroom.domain.shared.errors import RateLimited, ValidationError

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def subscriber(n: int, services: tuple[str, ...] = (), state: str = "confirmed") -> Subscriber:
    return Subscriber(n, "email", f"p{n}@example.com", services, state, T0)


def test_an_update_reaches_confirmed_subscribers_of_its_services_or_of_all() -> None:
    people = [
        subscriber(1, ("checkout",)),
        subscriber(2),
        subscriber(3, ("search",)),
        subscriber(4, state="pending"),
        subscriber(5, ("search", "checkout")),
    ]
    assert [s.id for s in rules.audience(people, ["checkout", "payments"])] == [1, 2, 5]
    assert [s.id for s in rules.audience(people, [])] == [2]


def test_addresses_are_normalized_or_refused() -> None:
    assert rules.parse_address("  Ana@Example.COM ") == "ana@example.com"
    for bad in (
        "",
        "ana",
        "ana@",
        "@example.com",
        "a b@example.com",
        "a@example.com\nBcc: x@y.z",
        "x" * 250 + "@e.io",
    ):
        with pytest.raises(ValidationError, match="not an email address"):
            rules.parse_address(bad)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/status",
        "http://hooks.example.com:8080/x?y=1",
        "https://[2606:4700::1111]/hook",
        "https://1.1.1.1/hook",
    ],
)
def test_public_http_urls_are_taken(url: str) -> None:
    assert rules.parse_webhook_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://example.com/",
        "https://",
        "https://user@example.com/",
        "http://10.0.0.8/hook",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://metadata.google.internal/",
        "http://printer.local/",
        "https://example.com:0/",
        "https://example.com:99999/",
        "https://exa mple.com/",
    ],
)
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        rules.parse_webhook_url(url)


def test_a_lab_may_allow_private_targets() -> None:
    assert rules.parse_webhook_url("http://127.0.0.1:9/hook", allow_private=True) == "http://127.0.0.1:9/hook"
    with pytest.raises(ValidationError):
        rules.parse_webhook_url("ftp://127.0.0.1/", allow_private=True)


def test_services_must_be_on_the_page_and_none_means_all() -> None:
    assert rules.parse_services(["search", " checkout", "search", ""], ["checkout", "search"]) == (
        "checkout",
        "search",
    )
    assert rules.parse_services([], ["checkout"]) == ()
    with pytest.raises(ValidationError, match="not a service"):
        rules.parse_services(["internal-db"], ["checkout"])


def test_one_confirmation_mail_an_hour() -> None:
    rules.confirmation_allowed(None, T0)
    rules.confirmation_allowed(T0, T0 + timedelta(hours=1))
    with pytest.raises(RateLimited) as refused:
        rules.confirmation_allowed(T0, T0 + timedelta(minutes=20))
    assert refused.value.retry_after_seconds == 40 * 60


def test_subscriber_channels_round_trip_and_nothing_else_parses() -> None:
    assert rules.id_of(rules.channel_of(42)) == 42
    for other in ("subscriber:", "subscriber:x", "subscriber:-1", "email:a@b.c", "subscriber:" + "9" * 30):
        assert rules.id_of(other) is None
