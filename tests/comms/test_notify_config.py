"""``[notify]`` in warroom.toml: the documented example parses; mistakes name the place."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from typing import Any

import pytest

from tests.comms.support import DOCS
from warroom.integrations.notify_config import parse_notify
from warroom.settings import SettingsError

SMTP = {"host": "127.0.0.1", "port": 2525, "sender": "warroom@example.com"}


def documented_example() -> dict[str, Any]:
    """The TOML block under "## Configuration" in docs/notifications.md."""
    section = DOCS.read_text().split("## Configuration", 1)[1]
    block = section.split("```toml\n", 1)[1].split("```", 1)[0]
    return tomllib.loads(block)


def notify(**section: Any) -> dict[str, Any]:
    return {"notify": section}


def test_the_documented_example_parses() -> None:
    raw = documented_example()
    raw["notify"]["smtp"] = SMTP
    parsed = parse_notify(raw)
    assert list(parsed.outbox.channels) == ["incidents", "status-bridge", "leadership"]
    assert parsed.outbox.channels["leadership"].recipients == (
        "eng-leads@example.com",
        "support-leads@example.com",
    )
    assert [r.channels for r in parsed.outbox.routes] == [
        ("incidents",),
        ("leadership", "status-bridge"),
        ("leadership",),
    ]
    assert parsed.outbox.routes[2].kinds == ("update_overdue", "followup_overdue")
    assert parsed.smtp is not None and parsed.smtp.port == 2525
    assert parsed.outbox.email and parsed.outbox.enabled


def test_defaults_follow_the_docs() -> None:
    parsed = parse_notify({})
    assert not parsed.outbox.enabled
    retry = parsed.outbox.retry
    assert (retry.max_attempts, retry.base, retry.cap) == (8, timedelta(seconds=5), timedelta(minutes=10))
    assert parsed.outbox.lease == timedelta(seconds=60)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (notify(channels=[{"name": "x", "type": "webhook", "url": "https://h/s3cr3t"}]),
         "notify.channels[1] (x): a webhook needs a secret to sign with"),
        (notify(channels=[{"name": "x", "type": "slack", "url": "https://h", "urls": []}]),
         "notify.channels[1] (x): unknown key 'urls'"),
        (notify(channels=[{"name": "x", "type": "sms", "url": "https://h"}]),
         "notify.channels[1] (x): type must be slack, webhook or email, not 'sms'"),
        (notify(channels=[{"name": "has space", "type": "slack", "url": "https://h"}]),
         "notify.channels[1]: name must be letters"),
        (notify(channels=[{"name": "x", "type": "slack", "url": "ftp://h"}]),
         "notify.channels[1] (x): slack needs an http(s) URL"),
        (notify(channels=[{"name": "x", "type": "slack", "url": "https://a"},
                          {"name": "x", "type": "slack", "url": "https://b"}]),
         "notify.channels[2]: a channel named 'x' already exists"),
        (notify(channels=[{"name": "m", "type": "email", "to": ["a@example.com"]}]),
         "channel m sends email: configure [notify.smtp]"),
        (notify(routes=[{"channels": ["nowhere"]}]),
         "notify.routes[1]: no channel named 'nowhere' in [[notify.channels]]"),
        (notify(channels=[{"name": "x", "type": "slack", "url": "https://h"}],
                routes=[{"channels": ["x"], "kinds": ["update_overdeu"]}]),
         "notify.routes[1]: unknown notification kinds: update_overdeu"),
        (notify(channels=[{"name": "x", "type": "slack", "url": "https://h"}],
                routes=[{"channels": ["x"], "max_severity": 5}]),
         "notify.routes[1]: max_severity must be 1, 2, 3 or 4"),
        (notify(smtp={"host": "h", "username": "u"}), "[notify.smtp]: username and password go together"),
        (notify(lease_seconds=5, timeout_seconds=10), "notify.lease_seconds (5) must exceed the slowest send"),
        (notify(retry_base_seconds=60, retry_max_seconds=10), "[notify]: need 0 < base <= cap"),
        (notify(base_url="warroom.example.com"), "notify.base_url must be an http(s) URL"),
        (notify(chanels=[]), "[notify]: unknown key 'chanels'"),
    ],
)  # fmt: skip
def test_mistakes_are_named(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        parse_notify(raw)
    assert str(refused.value).startswith(message)
    assert "s3cr3t" not in str(refused.value)
