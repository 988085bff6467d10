from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from warroom.domain.comms.notifications import (
    ChannelSpec,
    Notification,
    RetryPolicy,
    Route,
    route,
)

NOW = datetime(2024, 6, 3, 14, 2, 11, tzinfo=UTC)


def a_notification(**changes: object) -> Notification:
    n = Notification(
        key="outbox-1",
        kind="incident_declared",
        incident="INC-7",
        severity=2,
        services=("checkout", "payments-api"),
        team="payments",
        title="Checkout errors in eu-west",
        text="Error ratio 12% and growing.",
        url="https://warroom.example.com/incidents/INC-7",
        fields=(("Commander", "alice"),),
        occurred_at=NOW,
    )
    return replace(n, **changes)  # type: ignore[arg-type]


# --- Notification ----------------------------------------------------------------------


def test_the_headline_names_severity_incident_and_title() -> None:
    assert a_notification().headline == "[SEV2] INC-7: Checkout errors in eu-west"


def test_the_headline_leaves_out_what_a_notification_lacks() -> None:
    n = a_notification(severity=None, incident=None, kind="followup_overdue")
    assert n.headline == "Checkout errors in eu-west"


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "incident_exploded"},
        {"severity": 0},
        {"severity": 5},
        {"title": "two\nlines"},
        {"title": "  "},
        {"key": ""},
        {"key": "has space"},
        {"key": "line\nbreak"},
        {"occurred_at": datetime(2024, 6, 3, 14, 2)},
    ],
)
def test_a_notification_refuses_values_no_channel_could_carry(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        a_notification(**changes)


# --- ChannelSpec -----------------------------------------------------------------------


def test_a_webhook_channel_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        ChannelSpec("bridge", "webhook", "https://bridge.example.com/hook")


def test_an_email_channel_needs_addresses_not_a_url() -> None:
    with pytest.raises(ValueError):
        ChannelSpec("leads", "email", "https://example.com")
    with pytest.raises(ValueError):
        ChannelSpec("leads", "email", ())
    with pytest.raises(ValueError):
        ChannelSpec("leads", "email", ("not an address",))


def test_a_slack_channel_needs_an_http_url() -> None:
    with pytest.raises(ValueError):
        ChannelSpec("incidents", "slack", "hooks.slack.com/services/x")


def test_a_channel_keeps_its_credentials_out_of_its_repr() -> None:
    slack = ChannelSpec("incidents", "slack", "https://hooks.slack.com/services/T/B/SECRETPATH")
    hook = ChannelSpec("bridge", "webhook", "https://bridge.example.com/", secret="s3cr3t")
    assert "SECRETPATH" not in repr(slack)
    assert "s3cr3t" not in repr(hook)
    assert "incidents" in repr(slack)


def test_a_channel_gives_its_url_or_its_recipients_by_type() -> None:
    email = ChannelSpec("leads", "email", ("a@example.com", "b@example.com"))
    slack = ChannelSpec("incidents", "slack", "https://hooks.slack.com/services/T/B/X")
    assert email.recipients == ("a@example.com", "b@example.com")
    assert slack.url == "https://hooks.slack.com/services/T/B/X"
    with pytest.raises(ValueError):
        _ = email.url
    with pytest.raises(ValueError):
        _ = slack.recipients


# --- Routing ---------------------------------------------------------------------------


def test_a_route_without_filters_takes_everything() -> None:
    assert route(a_notification(severity=None, team=None), [Route(("all",))]) == ["all"]


def test_max_severity_two_takes_sev1_and_sev2_only() -> None:
    routes = [Route(("leads",), max_severity=2)]
    assert route(a_notification(severity=1), routes) == ["leads"]
    assert route(a_notification(severity=2), routes) == ["leads"]
    assert route(a_notification(severity=3), routes) == []


def test_max_severity_does_not_take_notifications_without_a_severity() -> None:
    n = a_notification(severity=None, kind="followup_overdue")
    assert route(n, [Route(("leads",), max_severity=4)]) == []


def test_a_services_filter_matches_when_any_service_overlaps() -> None:
    routes = [Route(("ledger-team",), services=("ledger", "payments-api"))]
    assert route(a_notification(), routes) == ["ledger-team"]
    assert route(a_notification(services=("search",)), routes) == []
    assert route(a_notification(services=()), routes) == []


def test_a_teams_filter_matches_the_owning_team() -> None:
    routes = [Route(("payments",), teams=("payments",))]
    assert route(a_notification(), routes) == ["payments"]
    assert route(a_notification(team="search"), routes) == []
    assert route(a_notification(team=None), routes) == []


def test_a_kinds_filter_matches_the_kind() -> None:
    routes = [Route(("nudges",), kinds=("update_overdue", "rotation_due"))]
    assert route(a_notification(kind="update_overdue"), routes) == ["nudges"]
    assert route(a_notification(kind="incident_declared"), routes) == []


def test_every_filter_of_a_route_must_match() -> None:
    routes = [Route(("x",), max_severity=1, teams=("payments",))]
    assert route(a_notification(severity=1), routes) == ["x"]
    assert route(a_notification(severity=2), routes) == []
    assert route(a_notification(severity=1, team="search"), routes) == []


def test_channels_of_all_matching_routes_come_once_in_route_order() -> None:
    routes = [
        Route(("incidents", "bridge")),
        Route(("leads",), max_severity=3),
        Route(("bridge", "incidents", "exec"), max_severity=2),
        Route(("search",), teams=("search",)),
    ]
    assert route(a_notification(), routes) == ["incidents", "bridge", "leads", "exec"]


def test_a_route_refuses_an_unknown_kind_rather_than_matching_nothing() -> None:
    with pytest.raises(ValueError, match="incident_decalred"):
        Route(("x",), kinds=("incident_decalred",))


def test_a_route_needs_a_channel_and_a_real_severity() -> None:
    with pytest.raises(ValueError):
        Route(())
    with pytest.raises(ValueError):
        Route(("x",), max_severity=5)


# --- RetryPolicy -----------------------------------------------------------------------


def test_the_first_attempt_is_due_at_once() -> None:
    assert RetryPolicy().next_attempt_at(0, NOW, rand=0.7) == NOW


def test_retries_back_off_exponentially_from_five_seconds() -> None:
    policy = RetryPolicy()
    waits = [policy.next_attempt_at(n, NOW, rand=0.0) for n in range(1, 8)]
    assert waits == [NOW + timedelta(seconds=s) for s in (5, 10, 20, 40, 80, 160, 320)]


def test_after_max_attempts_the_notification_is_dead_lettered() -> None:
    policy = RetryPolicy()
    assert policy.next_attempt_at(7, NOW, rand=0.0) is not None
    assert policy.next_attempt_at(8, NOW, rand=0.0) is None
    assert policy.next_attempt_at(9, NOW, rand=0.0) is None


def test_the_wait_never_exceeds_the_cap() -> None:
    policy = RetryPolicy(max_attempts=5000)
    assert policy.delay(9, rand=0.0) == timedelta(minutes=10)  # 5 s * 2**8 = 1280 s
    assert policy.delay(4000, rand=0.0) == timedelta(minutes=10)  # 2**3999 overflows


def test_jitter_only_shortens_the_wait_by_up_to_its_fraction() -> None:
    policy = RetryPolicy()
    assert policy.delay(2, rand=1.0) == timedelta(seconds=9)
    assert policy.delay(2, rand=0.5) == timedelta(seconds=9.5)
    capped = RetryPolicy(max_attempts=20).delay(12, rand=1.0)
    assert capped == timedelta(minutes=9)


def test_rand_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError):
        RetryPolicy().next_attempt_at(1, NOW, rand=1.5)


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError):
        RetryPolicy().next_attempt_at(1, datetime(2024, 6, 3), rand=0.0)


@pytest.mark.parametrize(
    "settings",
    [
        {"max_attempts": 0},
        {"base": timedelta(0)},
        {"cap": timedelta(seconds=1)},
        {"factor": 0.5},
        {"jitter": 1.0},
    ],
)
def test_a_policy_that_could_not_schedule_sensibly_is_refused(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**settings)  # type: ignore[arg-type]
