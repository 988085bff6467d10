"""The composition root: the one place where engines, stores and policies are built."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from warroom.domain.impact.probe import ProbePolicy
from warroom.domain.incidents.catalog import Catalog
from warroom.domain.incidents.policy import ResponsePolicy
from warroom.domain.incidents.severity import Severity, SeverityPolicy
from warroom.services.ports.impact import MetricsSource
from warroom.services.shared.context import Context
from warroom.settings import Settings, SettingsError

if TYPE_CHECKING:
    from warroom.integrations.notify_config import NotifySettings
    from warroom.services.comms.jobs import Job, JobRunner
    from warroom.services.comms.outbox import OutboxConfig
    from warroom.services.oncall.config import OncallConfig
    from warroom.services.ports.comms import Notifier


_MINUTE = timedelta(minutes=1)
_HOUR = timedelta(hours=1)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def build_policy(settings: Settings) -> ResponsePolicy:
    defaults = SeverityPolicy()
    severity = SeverityPolicy(
        sev1_customer_share=settings.number("severity", "sev1_customer_share", defaults.sev1_customer_share),
        sev2_customer_share=settings.number("severity", "sev2_customer_share", defaults.sev2_customer_share),
        sev1_financial_per_hour=settings.number(
            "severity", "sev1_financial_per_hour", defaults.sev1_financial_per_hour
        ),
        sev2_financial_per_hour=settings.number(
            "severity", "sev2_financial_per_hour", defaults.sev2_financial_per_hour
        ),
    )
    cadence: dict[Severity, timedelta | None] = {}
    for sev, default in ((Severity.SEV1, 15), (Severity.SEV2, 30), (Severity.SEV3, 60), (Severity.SEV4, 0)):
        minutes = settings.number("cadence", f"sev{int(sev)}_minutes", default)
        cadence[sev] = timedelta(minutes=minutes) if minutes > 0 else None
    return ResponsePolicy(
        severity=severity,
        cadence=cadence,
        rotation=timedelta(hours=settings.number("roles", "rotation_hours", 4)),
        change_window=timedelta(hours=settings.number("changes", "window_hours", 6)),
    )


def load_catalog(settings: Settings) -> Catalog:
    if settings.catalog_path is None or not settings.catalog_path.exists():
        return Catalog()
    from warroom.integrations.catalog_file import read_catalog

    return read_catalog(settings.catalog_path)


def build_probe_policy(settings: Settings) -> ProbePolicy:
    """``[impact]``: how the impact probe reads and judges indicators."""
    d = ProbePolicy()

    def number(key: str, default: float) -> float:
        return settings.number("impact", key, default)

    def positive(key: str, default: float) -> float:
        value = number(key, default)
        if value <= 0:
            raise SettingsError(f"impact.{key} in {settings.config_path} must be > 0, not {value!r}")
        return value

    def share(key: str, default: float) -> float:
        value = positive(key, default)
        if value > 1:
            raise SettingsError(f"impact.{key} in {settings.config_path} must be in (0, 1], not {value!r}")
        return value

    return ProbePolicy(
        step=timedelta(seconds=positive("step_seconds", d.step.total_seconds())),
        baseline_window=timedelta(minutes=positive("baseline_window_minutes", d.baseline_window / _MINUTE)),
        baseline_search=timedelta(hours=positive("baseline_search_hours", d.baseline_search / _HOUR)),
        trend_lookback=timedelta(minutes=positive("trend_minutes", d.trend_lookback / _MINUTE)),
        trend_noise=number("trend_noise", d.trend_noise),
        deviation_share=positive("deviation_share", d.deviation_share),
        min_improvement_share=share("min_improvement_share", d.min_improvement_share),
        verdict_window=timedelta(
            seconds=positive("verdict_window_seconds", d.verdict_window.total_seconds())
        ),
        resolve_window=timedelta(minutes=positive("resolve_window_minutes", d.resolve_window / _MINUTE)),
        chart_window=timedelta(minutes=positive("chart_minutes", d.chart_window / _MINUTE)),
        timeout=positive("timeout_seconds", d.timeout),
    )


def build_metrics(settings: Settings) -> MetricsSource:
    """The impact probe's Prometheus: ``impact.prometheus_url``, per-service overrides."""
    from warroom.integrations.prometheus_metrics import PrometheusMetrics

    url = settings.section("impact").get("prometheus_url") or None
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        raise SettingsError(
            f"impact.prometheus_url in {settings.config_path} must be an http(s) URL, not {url!r}"
        )
    return PrometheusMetrics(url, build_probe_policy(settings).timeout)


@dataclass(frozen=True)
class App:
    """Everything an entry point needs, built from settings."""

    settings: Settings
    context: Context


PASSWORD_PROFILES = ("RFC_9106_LOW_MEMORY", "RFC_9106_HIGH_MEMORY", "CHEAPEST")


def password_profile(settings: Settings) -> str:
    """``accounts.password_profile``: the argon2 parameters of local passwords."""
    value = settings.section("accounts").get("password_profile", PASSWORD_PROFILES[0])
    if value not in PASSWORD_PROFILES:
        raise SettingsError(
            f"accounts.password_profile in {settings.config_path} must be one of {', '.join(PASSWORD_PROFILES)}"
        )
    return str(value)


def build(settings: Settings, *, migrate: bool = True, clock: object | None = None) -> App:
    # Imported here, not at the top: the read-only path below must not load SQLAlchemy.
    from warroom.storage.db import make_engine
    from warroom.storage.migrate import ensure_schema
    from warroom.storage.uow import SqlUnitOfWork

    engine = make_engine(settings.database_url)
    if migrate:
        ensure_schema(engine)
    context = Context(
        uow=partial(SqlUnitOfWork, engine),
        reader=partial(SqlUnitOfWork, engine, readonly=True),
        clock=clock or SystemClock(),  # type: ignore[arg-type]
        policy=build_policy(settings),
        load_catalog=partial(load_catalog, settings),
        metrics=build_metrics(settings),
        probe=build_probe_policy(settings),
        load_channels=partial(channel_names, settings),
        load_outbox=partial(outbox_config, settings),
        password_profile=password_profile(settings),
    )
    return App(settings=settings, context=context)


def build_reader(settings: Settings) -> App | None:
    """A read-only App over SQLite without SQLAlchemy (for the start-up of ``warroom
    list``, ``show`` and ``report``): the stores' reads run with sqlite3. None when the
    database is not SQLite at the current schema head."""
    from warroom.storage.sqlite_read import SqliteReadUnitOfWork, reader_for

    path = reader_for(settings.database_url)
    if path is None:
        return None
    context = Context(
        uow=partial(SqliteReadUnitOfWork, path),  # type: ignore[arg-type]
        clock=SystemClock(),
        policy=build_policy(settings),
        load_catalog=partial(load_catalog, settings),
        probe=build_probe_policy(settings),
    )
    return App(settings=settings, context=context)


# --- Notifications and background jobs (imported on use: the CLI's start-up stays fast) ---


def channel_names(settings: Settings) -> frozenset[str]:
    """The names of the ``[[notify.channels]]``, for checking a stakeholder's target."""
    return frozenset(build_notify(settings).outbox.channels)


def outbox_config(settings: Settings) -> OutboxConfig:
    """Where notifications go (``[notify]``), for telling people what an update reaches."""
    return build_notify(settings).outbox


def build_notify(settings: Settings) -> NotifySettings:
    """``[notify]`` from the settings; a mistake is a ``SettingsError`` naming the place."""
    from warroom.integrations.notify_config import parse_notify

    return parse_notify(settings.raw)


def build_oncall(app: App, notify: NotifySettings | None = None) -> OncallConfig:
    """``[oncall]``: ack links (signed with ``secret_key``, under ``notify.base_url``) and
    what the first acknowledgement does to an incident without a commander."""
    from warroom.services.oncall.config import COMMANDER_CHOICES, OncallConfig

    settings = app.settings
    section = settings.section("oncall")
    commander = section.get("commander", "offer")
    if commander not in COMMANDER_CHOICES:
        raise SettingsError(
            f"oncall.commander in {settings.config_path} must be one of {', '.join(COMMANDER_CHOICES)}"
        )
    notify = notify or build_notify(settings)
    secret = settings.raw.get("secret_key")
    links = None
    if isinstance(secret, str) and secret:
        from warroom.integrations.ack_links import SignedAckLinks

        links = SignedAckLinks(secret, timedelta(hours=settings.number("oncall", "ack_link_hours", 24) or 24))
    return OncallConfig(links=links, base_url=notify.outbox.base_url, commander=commander)


def delivery_config(app: App, notify: NotifySettings) -> OutboxConfig:
    """``[notify]``'s outbox, able to deliver to people's on-call contact methods."""
    from dataclasses import replace as _replace

    from warroom.services.oncall.directory import contact_channel

    return _replace(notify.outbox, contacts=partial(contact_channel, app.context))


def build_jobs(app: App, notify: NotifySettings, notifier: Notifier) -> list[Job]:
    """Every scheduled job; new kinds of background work (mitigation checks) join here."""
    from warroom.services.comms import jobs
    from warroom.services.comms.delivery import Dispatcher
    from warroom.services.impact import mitigation_checks
    from warroom.services.oncall import escalation

    ctx, settings = app.context, app.settings
    oncall = build_oncall(app, notify)
    followup_every = timedelta(hours=settings.number("followups", "remind_every_hours", 24))
    delivery = Dispatcher(ctx, delivery_config(app, notify), notifier)
    # In order: what the reminders write is delivered in the same round.
    return [
        jobs.Job(
            "remind",
            timedelta(seconds=settings.number("jobs", "reminders_seconds", 30)),
            lambda now: jobs.send_reminders(ctx, now),
        ),
        jobs.Job(
            "remind_followups",
            timedelta(minutes=settings.number("jobs", "followups_minutes", 10)),
            lambda now: jobs.send_followup_reminders(ctx, now, every=followup_every),
        ),
        jobs.Job(
            "check_mitigations",
            timedelta(seconds=settings.number("impact", "check_every_seconds", 30)),
            lambda now: mitigation_checks.run_due_checks(ctx, now),
        ),
        # Shared: every worker runs it; each due page is locked while it is advanced, so a
        # step fires once. Before delivery, so a page's first notification goes out this round.
        jobs.Job(
            "escalate_pages",
            timedelta(seconds=settings.number("jobs", "oncall_seconds", 1)),
            lambda now: escalation.escalate(ctx, oncall, now),
            exclusive=False,
        ),
        jobs.Job(
            "deliver_notifications",
            timedelta(seconds=settings.number("jobs", "interval_seconds", 5)),
            delivery.run,
            exclusive=False,
            close=delivery.close,
        ),
    ]


def build_runner(app: App, *, worker: str | None = None) -> JobRunner:
    """The job runner of ``warroom serve`` and ``warroom worker``; ``close()`` it when done."""
    import os
    import socket

    from warroom.integrations.notify_config import make_notifier
    from warroom.services.comms.jobs import JobRunner

    notify = build_notify(app.settings)
    notifier, close = make_notifier(notify)
    return JobRunner(
        app.context,
        build_jobs(app, notify, notifier),
        worker=worker or f"{socket.gethostname()}:{os.getpid()}",
        lease=timedelta(seconds=app.settings.number("jobs", "lease_seconds", 300)),
        on_close=[close],
    )
