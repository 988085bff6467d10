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
    from collections.abc import Callable

    from sqlalchemy.engine import Engine

    from warroom.integrations.notify_config import NotifySettings
    from warroom.integrations.otlp import Limits
    from warroom.services.comms.jobs import Job, JobRunner
    from warroom.services.comms.outbox import OutboxConfig
    from warroom.services.comms.subscribers import SubscriptionConfig
    from warroom.services.oncall.config import OncallConfig
    from warroom.services.ports.comms import Notifier
    from warroom.services.xray.config import XrayConfig
    from warroom.storage.change_feed import ChangeFeed


_MINUTE = timedelta(minutes=1)
_HOUR = timedelta(hours=1)
# The job runner's default sleep between rounds (``jobs.interval_seconds``). A runner in
# the server also wakes when a page opens (the context's doorbell); a separate
# ``warroom worker`` only polls, and a second keeps the webhook -> page budget (2 s).
JOBS_INTERVAL = 1.0
# Between rounds the runner also asks, this often, whether a page step is due (one indexed
# read), so a worker in another process fires a page within a fraction of a second.
JOBS_POLL = 0.25


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
        resolution=timedelta(seconds=positive("resolution_seconds", d.resolution.total_seconds())),
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


def _whole(settings: Settings, key: str, default: int, least: int) -> int:
    """``[database]``'s ``key``: a whole number of at least ``least``."""
    value = settings.section("database").get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= 1000:
        raise SettingsError(
            f"database.{key} in {settings.config_path} must be a whole number from {least} to 1000, not {value!r}"
        )
    return value


@dataclass(frozen=True)
class App:
    """Everything an entry point needs, built from settings."""

    settings: Settings
    context: Context
    engine: object | None = None  # the SQLAlchemy engine behind ``context`` (None: read-only)


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

    engine = make_engine(
        settings.database_url,
        pool_size=_whole(settings, "pool_size", 5, 1),
        max_overflow=_whole(settings, "max_overflow", 10, 0),
    )
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
        load_subscriptions=partial(subscription_config, settings),
        load_xray=partial(build_xray, settings, engine),
        password_profile=password_profile(settings),
    )
    return App(settings=settings, context=context, engine=engine)


def start_change_feed(app: App, on_change: Callable[[int], None]) -> ChangeFeed | None:
    """On PostgreSQL, listen for changed incidents (``storage.change_feed``) and hand each
    number to ``on_change``; None elsewhere. ``stop()`` the feed when done."""
    from sqlalchemy.engine import Engine

    from warroom.storage.change_feed import ChangeFeed

    if not isinstance(app.engine, Engine) or app.engine.dialect.name != "postgresql":
        return None
    feed = ChangeFeed(app.engine, on_change)
    feed.start()
    return feed


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


# --- The X-ray (imported on use) ---


def build_xray(settings: Settings, engine: Engine) -> XrayConfig:
    """``[xray]``: the trace source the analysis reads (``source``: embedded, off, or a
    name under ``[xray.sources]`` with ``kind`` jaeger or tempo and ``url``), the embedded
    store OTLP ingest writes to, and the policies."""
    from warroom.domain.xray.analysis import AnalysisPolicy
    from warroom.domain.xray.sampling import SamplingPolicy
    from warroom.services.ports.xray import TraceSource
    from warroom.services.xray.config import XrayConfig
    from warroom.storage.xray_store import SqlTraceStore

    section = settings.section("xray")
    where = f"in {settings.config_path}"

    def number(key: str, default: float) -> float:
        return settings.number("xray", key, default)

    percent = number("baseline_percent", 10)
    if percent > 100:
        raise SettingsError(f"xray.baseline_percent {where} must be within 0..100, not {percent!r}")
    store = SqlTraceStore(engine)
    chosen = section.get("source", "embedded")
    timeout = number("timeout_seconds", 5) or 5
    source: TraceSource | None
    if chosen == "embedded":
        source = store
    elif chosen == "off":
        source = None
    else:
        sources = section.get("sources", {})
        found = sources.get(chosen) if isinstance(sources, dict) and isinstance(chosen, str) else None
        if not isinstance(found, dict):
            raise SettingsError(
                f"xray.source {where} must be embedded, off or a name under [xray.sources], not {chosen!r}"
            )
        kind, url = found.get("kind"), found.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise SettingsError(f"xray.sources.{chosen}.url {where} must be an http(s) URL, not {url!r}")
        if kind == "jaeger":
            from warroom.integrations.jaeger import JaegerTraces

            source = JaegerTraces(url, timeout)
        elif kind == "tempo":
            from warroom.integrations.tempo import TempoTraces

            source = TempoTraces(url, timeout)
        else:
            raise SettingsError(f"xray.sources.{chosen}.kind {where} must be jaeger or tempo, not {kind!r}")
    return XrayConfig(
        source=source,
        store=store if section.get("ingest", True) is not False else None,
        analysis=AnalysisPolicy(
            client_timeout_ms=number("client_timeout_ms", 5000), amplification=number("amplification", 1.5)
        ),
        sampling=SamplingPolicy(
            slow_ms=number("slow_ms", 2000),
            baseline_percent=percent,
            decision_wait_s=number("decision_wait_seconds", 30),
            retention_hours=number("retention_hours", 24),
        ),
        timeout=timeout,
        window_minutes=number("window_minutes", 30) or 30,
        baseline_minutes=number("baseline_minutes", 30) or 30,
    )


def otlp_limits(settings: Settings) -> Limits:
    """How much one OTLP export may hold (``xray.max_*``)."""
    from warroom.integrations.otlp import Limits

    d = Limits()
    return Limits(
        max_bytes=int(settings.number("xray", "max_body_bytes", d.max_bytes)),
        max_spans=int(settings.number("xray", "max_spans_per_request", d.max_spans)),
        max_attribute_bytes=int(settings.number("xray", "max_attribute_bytes", d.max_attribute_bytes)),
    )


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


def subscription_config(settings: Settings) -> SubscriptionConfig | None:
    """The status page's subscriptions: links signed with ``secret_key`` under
    ``notify.base_url`` (None when either is missing: subscribing is then refused)."""
    from warroom.integrations.subscriber_links import SignedSubscriberLinks, resolving_guard
    from warroom.services.comms.subscribers import SubscriptionConfig

    secret = settings.raw.get("secret_key")
    outbox = build_notify(settings).outbox
    if not (isinstance(secret, str) and secret and outbox.base_url):
        return None
    section = settings.section("subscribers")
    allow_private = section.get("allow_private_webhooks", False)
    if not isinstance(allow_private, bool):
        raise SettingsError(
            f"subscribers.allow_private_webhooks in {settings.config_path} must be true or false"
        )
    hours = settings.number("subscribers", "confirm_link_hours", 48) or 48
    return SubscriptionConfig(
        links=SignedSubscriberLinks(secret, confirm_max_age=timedelta(hours=hours)),
        base_url=outbox.base_url,
        email=outbox.email,
        check_url=resolving_guard(allow_private),
        allow_private=allow_private,
    )


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
    """``[notify]``'s outbox, able to deliver to people's on-call contact methods and to the
    status page's subscribers."""
    from dataclasses import replace as _replace

    from warroom.services.comms import subscribers
    from warroom.services.oncall.directory import contact_channel

    return _replace(
        notify.outbox,
        contacts=partial(contact_channel, app.context),
        subscribers=partial(subscribers.channel, app.context),
        personalize=partial(subscribers.personalize, app.context),
    )


def build_jobs(app: App, notify: NotifySettings, notifier: Notifier) -> list[Job]:
    """Every scheduled job; new kinds of background work (mitigation checks) join here."""
    from warroom.services.comms import jobs
    from warroom.services.comms.delivery import Dispatcher
    from warroom.services.impact import mitigation_checks
    from warroom.services.oncall import escalation
    from warroom.services.xray.retention import run_sampling

    ctx, settings = app.context, app.settings
    oncall = build_oncall(app, notify)
    followup_every = timedelta(hours=settings.number("followups", "remind_every_hours", 24))
    delivery = Dispatcher(ctx, delivery_config(app, notify), notifier)
    xray = ctx.xray
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
            on_ring=True,
            due=lambda now: escalation.pages_due(ctx, now),
        ),
        jobs.Job(
            "xray_sampling",
            timedelta(seconds=settings.number("xray", "sample_every_seconds", 30) or 30),
            lambda now: run_sampling(xray, now),
        ),
        jobs.Job(
            "deliver_notifications",
            timedelta(seconds=settings.number("jobs", "interval_seconds", JOBS_INTERVAL)),
            delivery.run,
            exclusive=False,
            close=delivery.close,
            on_ring=True,
        ),
    ]


def build_runner(app: App, *, worker: str | None = None) -> JobRunner:
    """The job runner of ``warroom serve`` and ``warroom worker``; ``close()`` it when done."""
    import os
    import socket
    import threading

    from warroom.integrations.apprise_notifier import preload
    from warroom.integrations.notify_config import make_notifier
    from warroom.services.comms.jobs import JobRunner

    notify = build_notify(app.settings)
    notifier, close = make_notifier(notify)
    threading.Thread(target=preload, name="warroom-preload", daemon=True).start()
    return JobRunner(
        app.context,
        build_jobs(app, notify, notifier),
        worker=worker or f"{socket.gethostname()}:{os.getpid()}",
        lease=timedelta(seconds=app.settings.number("jobs", "lease_seconds", 300)),
        on_close=[close],
        poll=max(0.05, app.settings.number("jobs", "poll_seconds", JOBS_POLL)),
    )
