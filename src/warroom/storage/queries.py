"""The read queries of ``storage.reads``, in SQLAlchemy Core: their one source.

A query is a function of its shape (keyword-only flags: which optional clauses it has)
returning a statement with named parameters. The SQLAlchemy stores execute these
statements (:func:`statement` builds each shape once); ``python -m warroom.storage.readgen``
compiles every shape for SQLite into ``storage.read_sql`` for the sqlite3 reader, and a
test fails when that file is stale. Columns are listed explicitly: the row mappings of
``storage.reads`` read them by position.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Integer, Select, String, and_, bindparam, or_, select, type_coerce

from warroom.storage.learning_tables import DURATIONS, reliability_records
from warroom.storage.oncall_tables import oncall_people, page_notifications, pages
from warroom.storage.reads import NOTIFICATION_FIELDS, PAGE_FIELDS, TOKEN_FIELDS, Reads, key
from warroom.storage.tables import changes, events, incident_services, incidents, snapshots, tokens

EVENT_COLUMNS = (
    events.c.incident,
    events.c.seq,
    events.c.kind,
    events.c.payload,
    events.c.actor,
    events.c.occurred_at,
    events.c.recorded_at,
    events.c.prev_hash,
    events.c.hash,
)
CHANGE_COLUMNS = (
    changes.c.id,
    changes.c.service,
    changes.c.kind,
    changes.c.at,
    changes.c.summary,
    changes.c.actor,
    changes.c.source,
    changes.c.dedup,
    changes.c.details,
)
_DECLARED = incidents.c.status != "declaring"  # a number reserved, not yet declared


def incident_version() -> Select[Any]:
    return select(incidents.c.version).where(incidents.c.number == bindparam("number"), _DECLARED)


def snapshot() -> Select[Any]:
    return select(snapshots.c.version, snapshots.c.format, snapshots.c.state).where(
        snapshots.c.number == bindparam("number")
    )


def events_of(*, before: bool, limit: bool, newest_first: bool) -> Select[Any]:
    query = select(*EVENT_COLUMNS).where(
        events.c.incident == bindparam("number"), events.c.seq > bindparam("after")
    )
    if before:
        query = query.where(events.c.seq < bindparam("before"))
    query = query.order_by(events.c.seq.desc() if newest_first else events.c.seq)
    if limit:
        query = query.limit(bindparam("limit", type_=Integer))
    return query


def summaries(*, status: bool, severity: bool, service: bool, open_only: bool) -> Select[Any]:
    query = select(
        incidents.c.number,
        incidents.c.title,
        incidents.c.status,
        incidents.c.severity,
        incidents.c.kind,
        incidents.c.services,
        incidents.c.commander,
        incidents.c.declared_at,
        incidents.c.detected_at,
        incidents.c.updated_at,
        incidents.c.version,
    ).where(_DECLARED)
    if status:
        query = query.where(incidents.c.status == bindparam("status"))
    if severity:
        query = query.where(incidents.c.severity == bindparam("severity"))
    if open_only:
        query = query.where(incidents.c.is_open.is_(True))
    if service:
        query = query.where(
            incidents.c.number.in_(
                select(incident_services.c.number).where(incident_services.c.service == bindparam("service"))
            )
        )
    query = query.order_by(incidents.c.is_open.desc(), incidents.c.severity, incidents.c.number.desc())
    return query.limit(bindparam("limit", type_=Integer))


def numbers() -> Select[Any]:
    return select(incidents.c.number).where(_DECLARED).order_by(incidents.c.number)


def changes_between() -> Select[Any]:
    return (
        select(*CHANGE_COLUMNS)
        .where(
            changes.c.service.in_(bindparam("services", expanding=True)),
            changes.c.at >= bindparam("start"),
            changes.c.at <= bindparam("end"),
        )
        .order_by(changes.c.at.desc(), changes.c.id.desc())
    )


def stale_records() -> Select[Any]:
    r = reliability_records
    return (
        select(incidents.c.number)
        .select_from(incidents.outerjoin(r, r.c.incident == incidents.c.number))
        .where(_DECLARED, or_(r.c.id.is_(None), r.c.version != incidents.c.version))
        .order_by(incidents.c.number)
    )


def measured(*, since: bool, until: bool, severity: bool) -> Select[Any]:
    r = reliability_records
    query = select(
        r.c.services,
        r.c.severity,
        r.c.kind,
        # as stored: SQLite's text skips the per-value type adapter (50,000 rows); the
        # mapping reads it (or a driver's datetime) with ``times.utc``
        type_coerce(r.c.anchor_at, String),
        r.c.month,
        *(r.c[f"{name}_seconds"] for name in DURATIONS),
        r.c.factors,
        r.c.followups_done,
    )
    conditions = []
    if since:
        conditions.append(r.c.anchor_at >= bindparam("since"))
    if until:
        conditions.append(r.c.anchor_at < bindparam("until"))
    if severity:
        conditions.append(r.c.severity == bindparam("severity"))
    return query.where(and_(*conditions)) if conditions else query


def oncall_pages_between() -> Select[Any]:
    return (
        select(
            # a Boolean converts values; the mapping takes 0/1 (SQLite) or a bool alike
            *(type_coerce(pages.c[n], Integer) if n == "fell_back" else pages.c[n] for n in PAGE_FIELDS)
        )
        .where(pages.c.opened_at >= bindparam("start"), pages.c.opened_at < bindparam("end"))
        .order_by(pages.c.id)
    )


def oncall_notifications() -> Select[Any]:
    return (
        select(*(page_notifications.c[name] for name in NOTIFICATION_FIELDS))
        .where(page_notifications.c.page_id.in_(bindparam("pages", expanding=True)))
        .order_by(page_notifications.c.id)
    )


def oncall_people_documents() -> Select[Any]:
    return select(oncall_people.c.document).order_by(oncall_people.c.handle)


def token_list() -> Select[Any]:
    return select(*(tokens.c[name] for name in TOKEN_FIELDS)).order_by(tokens.c.id)


QUERIES: dict[str, Callable[..., Select[Any]]] = {
    "incident_version": incident_version,
    "snapshot": snapshot,
    "events": events_of,
    "summaries": summaries,
    "numbers": numbers,
    "changes_between": changes_between,
    "stale_records": stale_records,
    "measured": measured,
    "oncall_pages_between": oncall_pages_between,
    "oncall_notifications": oncall_notifications,
    "oncall_people": oncall_people_documents,
    "tokens": token_list,
}


@cache
def _built(name: str, flags: frozenset[str]) -> Select[Any]:
    known = shape_flags(name)
    if not flags <= set(known):
        raise TypeError(f"query {name!r} has no shape {sorted(flags - set(known))}")
    return QUERIES[name](**{flag: flag in flags for flag in known})


def statement(name: str, **shape: bool) -> Select[Any]:
    """Query ``name`` in ``shape``, built once per shape (statements are immutable)."""
    return _built(name, frozenset(flag for flag, on in shape.items() if on))


@cache
def shape_flags(name: str) -> tuple[str, ...]:
    """The flags of query ``name``: its keyword-only parameters."""
    parameters = inspect.signature(QUERIES[name]).parameters.values()
    return tuple(p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY)


def every_shape() -> Iterator[tuple[str, Select[Any]]]:
    """``(key, statement)`` for every shape of every query, in a stable order."""
    for name in QUERIES:
        flags = shape_flags(name)
        for values in itertools.product((False, True), repeat=len(flags)):
            shape = dict(zip(flags, values, strict=True))
            yield key(name, shape), statement(name, **shape)


class SqlReads(Reads):
    """``storage.reads`` executed by SQLAlchemy on the store's connection (any database)."""

    _db: Connection

    def _fetch(self, name: str, params: Mapping[str, Any], **shape: bool) -> Sequence[Sequence[Any]]:
        return self._db.execute(statement(name, **shape), dict(params)).all()
