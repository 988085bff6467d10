"""What every use case needs: a unit of work, the clock, the policy and the catalog."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from warroom.domain.impact.probe import ProbePolicy
from warroom.domain.incidents.catalog import Catalog
from warroom.domain.incidents.policy import ResponsePolicy
from warroom.services.shared.doorbell import Doorbell

if TYPE_CHECKING:
    from warroom.services.ports.impact import MetricsSource
    from warroom.services.ports.uow import Clock, UnitOfWork


@dataclass(frozen=True)
class Context:
    uow: Callable[[], UnitOfWork]
    clock: Clock
    policy: ResponsePolicy = field(default_factory=ResponsePolicy)
    load_catalog: Callable[[], Catalog] = Catalog
    # The impact probe: where indicators are read (None: nowhere) and how they are judged.
    metrics: MetricsSource | None = None
    probe: ProbePolicy = field(default_factory=ProbePolicy)

    # Read-only transactions where the storage distinguishes them (SQLite: a deferred BEGIN,
    # so readers never queue for the write lock); None means ``uow`` serves reads too.
    reader: Callable[[], UnitOfWork] | None = None
    # The names of the configured notification channels (stakeholders may name one of
    # them); None: not known here, so any name is taken.
    load_channels: Callable[[], Collection[str]] | None = None
    # The outbox's configuration (``warroom.services.comms.outbox.OutboxConfig``: channels,
    # routes, SMTP or not), to tell people what their updates will not reach; None: not known.
    load_outbox: Callable[[], Any] | None = None
    # Rung after a commit that leaves work due now (a page opened), so this process's job
    # runner wakes at once instead of at the end of its sleep.
    doorbell: Doorbell = field(default_factory=Doorbell)
    # The status page's subscriptions (``warroom.services.comms.subscribers.
    # SubscriptionConfig``: signed links, SMTP or not, the webhook URL check); None: off.
    load_subscriptions: Callable[[], Any] | None = None
    # The X-ray (``warroom.services.xray.config.XrayConfig``: trace source, embedded store,
    # policies), built on first use; None: no X-ray here.
    load_xray: Callable[[], Any] | None = None
    # The argon2 parameters of local account passwords: a name in ``argon2.profiles``
    # (``accounts.password_profile``; CHEAPEST only where nothing real is protected: tests).
    password_profile: str = "RFC_9106_LOW_MEMORY"

    def read(self) -> UnitOfWork:
        """A unit of work for reads only (never commit in it)."""
        return self.reader() if self.reader is not None else self.uow()

    @cached_property
    def channels(self) -> Collection[str] | None:
        """The configured channel names, read on first use (None: not known)."""
        return self.load_channels() if self.load_channels is not None else None

    @cached_property
    def outbox(self) -> Any:
        """The outbox's configuration, read on first use (None: not known)."""
        return self.load_outbox() if self.load_outbox is not None else None

    @cached_property
    def subscriptions(self) -> Any:
        """The subscriptions' configuration, read on first use (None: not configured)."""
        return self.load_subscriptions() if self.load_subscriptions is not None else None

    @cached_property
    def xray(self) -> Any:
        """The X-ray's configuration, built on first use (None: not available)."""
        return self.load_xray() if self.load_xray is not None else None

    @cached_property
    def catalog(self) -> Catalog:
        """Read on first use, so commands that do not need it start faster."""
        return self.load_catalog()
