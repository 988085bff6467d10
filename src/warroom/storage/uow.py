"""The SQL unit of work: one connection, one transaction, the stores bound to it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection
from sqlalchemy.engine import Engine

from warroom.storage.account_store import SqlAccountStore
from warroom.storage.alert_store import SqlAlertStore
from warroom.storage.change_store import SqlChangeStore
from warroom.storage.db import READONLY_KEY
from warroom.storage.idempotency_store import SqlIdempotencyStore
from warroom.storage.incident_store import SqlIncidentStore
from warroom.storage.job_store import SqlJobStore
from warroom.storage.learning_store import SqlLearningStore
from warroom.storage.oncall_store import SqlOncallStore
from warroom.storage.outbox_store import SqlOutboxStore, SqlStakeholderStore
from warroom.storage.statuspage_store import SqlStatusPageStore
from warroom.storage.subscriber_store import SqlSubscriberStore
from warroom.storage.token_store import SqlTokenStore


class SqlUnitOfWork:
    """``with uow: ...; uow.commit()``; leaving without commit rolls back."""

    def __init__(self, engine: Engine, *, readonly: bool = False) -> None:
        self._engine = engine
        self._readonly = readonly
        self._connection: Connection | None = None
        self._incidents: SqlIncidentStore | None = None
        self._changes: SqlChangeStore | None = None
        self._alerts: SqlAlertStore | None = None
        self._tokens: SqlTokenStore | None = None
        self._accounts: SqlAccountStore | None = None
        self._idempotency: SqlIdempotencyStore | None = None
        self._learning: SqlLearningStore | None = None
        self._outbox: SqlOutboxStore | None = None
        self._stakeholders: SqlStakeholderStore | None = None
        self._jobs: SqlJobStore | None = None
        self._oncall: SqlOncallStore | None = None
        self._subscribers: SqlSubscriberStore | None = None
        self._statuspage: SqlStatusPageStore | None = None

    def __enter__(self) -> Self:
        self._connection = self._engine.connect()
        self._connection.info[READONLY_KEY] = self._readonly  # read by db.py's BEGIN hook
        self._connection.begin()
        self._incidents = SqlIncidentStore(self._connection)
        self._changes = SqlChangeStore(self._connection)
        self._alerts = SqlAlertStore(self._connection)
        self._tokens = SqlTokenStore(self._connection)
        self._accounts = SqlAccountStore(self._connection)
        self._idempotency = SqlIdempotencyStore(self._connection)
        self._learning = SqlLearningStore(self._connection)
        self._outbox = SqlOutboxStore(self._connection)
        self._stakeholders = SqlStakeholderStore(self._connection)
        self._jobs = SqlJobStore(self._connection)
        self._oncall = SqlOncallStore(self._connection)
        self._subscribers = SqlSubscriberStore(self._connection)
        self._statuspage = SqlStatusPageStore(self._connection)
        return self

    @property
    def incidents(self) -> SqlIncidentStore:
        assert self._incidents is not None, "use the unit of work inside a with block"
        return self._incidents

    @property
    def changes(self) -> SqlChangeStore:
        assert self._changes is not None, "use the unit of work inside a with block"
        return self._changes

    @property
    def alerts(self) -> SqlAlertStore:
        assert self._alerts is not None, "use the unit of work inside a with block"
        return self._alerts

    @property
    def tokens(self) -> SqlTokenStore:
        assert self._tokens is not None, "use the unit of work inside a with block"
        return self._tokens

    @property
    def accounts(self) -> SqlAccountStore:
        assert self._accounts is not None, "use the unit of work inside a with block"
        return self._accounts

    @property
    def idempotency(self) -> SqlIdempotencyStore:
        assert self._idempotency is not None, "use the unit of work inside a with block"
        return self._idempotency

    @property
    def learning(self) -> SqlLearningStore:
        assert self._learning is not None, "use the unit of work inside a with block"
        return self._learning

    @property
    def outbox(self) -> SqlOutboxStore:
        assert self._outbox is not None, "use the unit of work inside a with block"
        return self._outbox

    @property
    def stakeholders(self) -> SqlStakeholderStore:
        assert self._stakeholders is not None, "use the unit of work inside a with block"
        return self._stakeholders

    @property
    def jobs(self) -> SqlJobStore:
        assert self._jobs is not None, "use the unit of work inside a with block"
        return self._jobs

    @property
    def oncall(self) -> SqlOncallStore:
        assert self._oncall is not None, "use the unit of work inside a with block"
        return self._oncall

    @property
    def subscribers(self) -> SqlSubscriberStore:
        assert self._subscribers is not None, "use the unit of work inside a with block"
        return self._subscribers

    @property
    def statuspage(self) -> SqlStatusPageStore:
        assert self._statuspage is not None, "use the unit of work inside a with block"
        return self._statuspage

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._connection is not None
        try:
            if exc is not None and _broken(self._connection):
                # The alert store talks to the driver directly, so SQLAlchemy did not see
                # the connection die (a failover, a restarted server): drop it and every
                # pooled one as old, so the next unit of work connects afresh.
                self._connection.invalidate(exc if isinstance(exc, Exception) else None)
            elif self._connection.in_transaction():
                self._connection.rollback()
        finally:
            self._connection.close()
            self._connection = None

    def commit(self) -> None:
        assert self._connection is not None
        self._connection.commit()

    @property
    def connection(self) -> Connection:
        assert self._connection is not None
        return self._connection


def _broken(connection: Connection) -> bool:
    """True when the driver's connection is closed or lost (psycopg's ``broken``)."""
    if connection.invalidated or connection.closed:
        return False
    driver = connection.connection.driver_connection
    return bool(getattr(driver, "broken", False) or getattr(driver, "closed", False))
