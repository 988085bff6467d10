"""The composition root: the one place where engines, stores and policies are built."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from warroom.domain.catalog import Catalog
from warroom.domain.policy import ResponsePolicy
from warroom.domain.severity import Severity, SeverityPolicy
from warroom.services.context import Context
from warroom.settings import Settings
from warroom.storage.db import make_engine
from warroom.storage.migrate import ensure_schema
from warroom.storage.uow import SqlUnitOfWork


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


@dataclass(frozen=True)
class App:
    """Everything an entry point needs, built from settings."""

    settings: Settings
    context: Context


def build(settings: Settings, *, migrate: bool = True, clock: object | None = None) -> App:
    engine = make_engine(settings.database_url)
    if migrate:
        ensure_schema(engine)
    context = Context(
        uow=partial(SqlUnitOfWork, engine),
        clock=clock or SystemClock(),  # type: ignore[arg-type]
        policy=build_policy(settings),
        load_catalog=partial(load_catalog, settings),
    )
    return App(settings=settings, context=context)
