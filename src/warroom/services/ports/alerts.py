"""Ports of the alerts context: the alert store, its dedup and its triage queue."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from warroom.domain.alerts.records import AlertRecord, Silence
    from warroom.domain.alerts.routing import Route
    from warroom.domain.alerts.signals import AlertSignal
    from warroom.domain.alerts.transitions import Known, Outcome
    from warroom.domain.incidents.changes import Change
    from warroom.domain.incidents.events import Event


@dataclass(frozen=True)
class IngestView:
    """What one ingest transaction decides on, read after its service locks were granted:
    the stored alerts of the fingerprints read, and, of the locked services, the newest
    open incident and those silenced now."""

    known: dict[str, Known]
    open_incidents: dict[str, int]
    silenced: frozenset[str]
    inserted: dict[str, int] | None = None
    """fingerprint -> id of the alerts the view's insert stored (None: it had none)."""
    versions: dict[int, int] = field(default_factory=dict)
    """The stored version of each open incident, where the store read it with them."""
    newer: dict[int, list[Event]] = field(default_factory=dict)
    """Of the incidents given as ``catch_up``, the stored events after the version given,
    where the store read them with the rest (on PostgreSQL, in the same round trip)."""


class IngestBatch(Protocol):
    """What one ingest transaction inserts before its locks, then locks and reads.

    The store sends each of :meth:`inserts` as it comes (on PostgreSQL while the database
    runs the ones before), so the batch may grow while they are made; only when they are
    exhausted does it ask what to lock and read."""

    source: str

    def inserts(self) -> Iterable[object]:
        """The inserts (:meth:`AlertStore.prepare_insert`) in order, made as asked for."""
        ...

    def services(self) -> Collection[str]:
        """The services to lock, once :meth:`inserts` is exhausted."""
        ...

    def fingerprints(self) -> Sequence[str]:
        """The fingerprints (of ``source``) whose stored state the transaction decides on."""
        ...

    def catch_up(self) -> Mapping[int, int]:
        """Incident number -> a version the caller holds: the events after it are read too."""
        ...


@dataclass(frozen=True)
class AlertDetail:
    """A stored alert with what the room links to: its annotations (``runbook_url``,
    ``description``) and the source's link back (``generatorURL``)."""

    record: AlertRecord
    annotations: Mapping[str, str]
    generator_url: str | None


class AlertStore(Protocol):
    """Alerts, one per (source, fingerprint); every write is idempotent across processes."""

    def lock_services(self, services: Iterable[str]) -> None:
        """Serialise check-then-declare per service for this transaction."""
        ...

    def begin_ingest(self, batch: IngestBatch, now: datetime) -> IngestView:
        """Run the batch's inserts (their ids in ``view.inserted``), lock its services (as
        :meth:`lock_services`), then read what ingest decides on; on PostgreSQL in one
        pipeline, one round trip after the last insert is sent, the inserts before the
        locks. ``known`` holds what was stored before this transaction, never what its
        inserts stored. On PostgreSQL the same round trip also reads the events of the
        batch's ``catch_up`` incidents after the versions given, into ``view.newer``;
        elsewhere they are ignored. Two ingests that inserted the same new alerts in crossed
        order deadlock; the store raises ``ConcurrencyConflict`` for the loser to retry."""
        ...

    def prepare_insert(
        self,
        rows: Sequence[tuple[AlertSignal, Route]],
        now: datetime,
        transitions: Mapping[str, Sequence[tuple[str, datetime]]],
    ) -> object:
        """:meth:`insert`'s statement and parameters, built (and on PostgreSQL encoded)
        before any lock is taken, for :meth:`begin_ingest` to run."""
        ...

    def known(self, source: str, fingerprints: Sequence[str]) -> dict[str, Known]: ...

    def insert(
        self,
        rows: Sequence[tuple[AlertSignal, Route]],
        now: datetime,
        transitions: Mapping[str, Sequence[tuple[str, datetime]]] | None = None,
    ) -> dict[str, int]:
        """Insert new alerts and their (status, at) transitions by fingerprint; fingerprint
        -> id of those inserted (existing ones, and their transitions, are skipped)."""
        ...

    def update(
        self,
        rows: Sequence[tuple[int, AlertSignal, Outcome, Route | None]],
        now: datetime,
        transitions: Sequence[tuple[int, str, datetime]] = (),
    ) -> None:
        """Write what changed of stored alerts and record their (alert id, firing|resolved,
        when) ``transitions``."""
        ...

    def add_transitions(self, rows: Sequence[tuple[int, str, datetime]], now: datetime) -> None:
        """Record (alert id, firing|resolved, when) transitions."""
        ...

    def attach(self, alert_ids: Sequence[int], number: int) -> None: ...

    def open_incidents(self, services: Iterable[str]) -> dict[str, int]:
        """The newest open incident of each service that has one."""
        ...

    def queued(self, service: str | None = None, *, limit: int | None = None) -> list[AlertRecord]:
        """Firing alerts attached to no incident, by service then start."""
        ...

    def queue_counts(self) -> dict[str, int]: ...

    def for_incident(self, number: int) -> list[AlertRecord]: ...

    def details_for_incident(self, number: int) -> list[AlertDetail]:
        """The incident's alerts (as :meth:`for_incident`) with annotations and links."""
        ...

    def get(self, source: str, fingerprint: str) -> AlertRecord | None: ...

    def history(self, alert_id: int) -> list[tuple[str, datetime]]: ...

    def add_silence(self, silence: Silence) -> None: ...

    def silences(self, now: datetime) -> dict[str, Silence]:
        """The longest silence in force at ``now``, per service."""
        ...

    def silenced(self, services: Iterable[str], now: datetime) -> set[str]:
        """Which of ``services`` have a silence in force at ``now``."""
        ...

    def add_changes(self, items: Sequence[Change]) -> list[tuple[Change, bool]]:
        """Store changes deduplicated on ``dedup``; each with its id and whether it is new."""
        ...
