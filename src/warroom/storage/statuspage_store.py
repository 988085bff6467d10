"""The status page's store: hand-set states, maintenance windows (and their alert
silences), and the page generation."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from warroom.domain.comms.statuspage import Maintenance, ManualState
from warroom.storage.alert_tables import alert_silences
from warroom.storage.statuspage_tables import status_components, status_generation, status_maintenance


def _window(row: Any) -> Maintenance:
    return Maintenance(
        id=int(row.id),
        services=tuple(json.loads(row.services)),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        text=row.text,
        created_by=row.created_by,
        created_at=row.created_at,
        cancelled_at=row.cancelled_at,
    )


class SqlStatusPageStore:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    # --- components set by hand ------------------------------------------------------------

    def manual_states(self) -> dict[str, ManualState]:
        rows = self._db.execute(select(status_components))
        return {row.service: ManualState(row.state, row.reason, row.set_by, row.set_at) for row in rows}

    def set_manual(self, service: str, manual: ManualState | None) -> None:
        self._db.execute(delete(status_components).where(status_components.c.service == service))
        if manual is not None:
            self._db.execute(
                insert(status_components).values(
                    service=service,
                    state=manual.state,
                    reason=manual.reason,
                    set_by=manual.by,
                    set_at=manual.at,
                )
            )

    # --- maintenance -----------------------------------------------------------------------

    def add_maintenance(
        self,
        services: Sequence[str],
        starts_at: datetime,
        ends_at: datetime,
        text: str,
        by: str,
        at: datetime,
    ) -> Maintenance:
        """Store the window and silence its services' alerts from start to end."""
        found = self._db.execute(
            insert(status_maintenance)
            .values(
                services=json.dumps(list(services)),
                starts_at=starts_at,
                ends_at=ends_at,
                text=text,
                created_by=by,
                created_at=at,
            )
            .returning(status_maintenance.c.id)
        ).scalar_one()
        window = Maintenance(int(found), tuple(services), starts_at, ends_at, text, by, at)
        self._db.execute(
            insert(alert_silences),
            [
                {
                    "service": service,
                    "starts_at": starts_at,
                    "until": ends_at,
                    "reason": window.reason(),
                    "actor": by,
                    "created_at": at,
                    "maintenance_id": window.id,
                }
                for service in services
            ],
        )
        return window

    def get_maintenance(self, window_id: int) -> Maintenance | None:
        row = self._db.execute(select(status_maintenance).where(status_maintenance.c.id == window_id)).first()
        return _window(row) if row is not None else None

    def maintenance(self, ending_after: datetime, *, limit: int = 200) -> list[Maintenance]:
        """Windows that end after ``ending_after`` (cancelled ones too), by start."""
        query = (
            select(status_maintenance)
            .where(status_maintenance.c.ends_at > ending_after)
            .order_by(status_maintenance.c.starts_at, status_maintenance.c.id)
            .limit(limit)
        )
        return [_window(row) for row in self._db.execute(query)]

    def cancel_maintenance(self, window_id: int, at: datetime) -> None:
        """Mark it cancelled (or ended, when in progress) and end its silences at ``at``."""
        self._db.execute(
            update(status_maintenance).where(status_maintenance.c.id == window_id).values(cancelled_at=at)
        )
        self._db.execute(
            update(alert_silences)
            .where(alert_silences.c.maintenance_id == window_id)
            .where(alert_silences.c.until > at)
            .values(until=at)
        )

    # --- the generation --------------------------------------------------------------------

    def generation(self) -> int:
        found = self._db.execute(select(status_generation.c.generation).where(status_generation.c.id == 1))
        value = found.scalar()
        return int(value) if value is not None else 0

    def touch(self, at: datetime) -> None:
        """A public event: the page's renderings made before it are stale."""
        done = self._db.execute(
            update(status_generation)
            .where(status_generation.c.id == 1)
            .values(generation=status_generation.c.generation + 1, changed_at=at)
        )
        if done.rowcount == 0:
            self._db.execute(insert(status_generation).values(id=1, generation=1, changed_at=at))
