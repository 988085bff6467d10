"""The cold-start paths of ``warroom list``, ``show`` and ``report``: the same reads and
views as the full CLI, with the stores' reads run by sqlite3 (``storage.sqlite_read``)
instead of SQLAlchemy, whose import alone costs about 200 ms of the 300 ms budget.

Each answers None when it cannot answer exactly (not SQLite, no database yet, schema not
at head, a record to rebuild, an error to print): the caller takes the full path, which
also migrates. Nothing here imports SQLAlchemy, Typer or ``cli.main``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warroom.settings import Settings

View = dict[str, Any]


def incident_list(
    settings: Settings,
    *,
    open_only: bool,
    limit: int,
    status: str | None = None,
    severity: int | None = None,
    service: str | None = None,
) -> list[View] | None:
    """``operations.list_incidents`` for filters already checked by the caller."""
    from warroom.services.incidents.views import summary_view
    from warroom.services.ports.incidents import IncidentFilter
    from warroom.storage.sqlite_read import SqliteReadUnitOfWork, reader_for

    path = reader_for(settings.database_url)
    if path is None:
        return None
    filters = IncidentFilter(
        status=status, severity=severity, service=service, open_only=open_only, limit=limit
    )
    with SqliteReadUnitOfWork(path) as uow:
        rows = uow.incidents.summaries(filters)
    return [summary_view(row) for row in rows]


def room(settings: Settings, ref: str) -> View | None:
    """``operations.room``: what ``warroom show`` prints."""
    from warroom.bootstrap import build_reader
    from warroom.domain.shared.errors import DomainError
    from warroom.services.operations import room as show

    app = build_reader(settings)
    if app is None:
        return None
    try:
        return show(app.context, ref)
    except DomainError:
        return None  # the full CLI prints the one-line error


def report(settings: Settings, query: dict[str, Any]) -> View | None:
    """``learning.operations.report`` when every warroom incident's review record is
    current (rebuilding one is a write: the full path does it)."""
    from warroom.bootstrap import build_reader
    from warroom.domain.shared.errors import DomainError

    app = build_reader(settings)
    if app is None:
        return None
    with app.context.read() as uow:
        if uow.learning.stale_records():
            return None
    from warroom.services.learning.operations import report as review

    try:
        return review(app.context, query)
    except DomainError:
        return None
