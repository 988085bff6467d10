"""The status page's port: hand-set component states, maintenance windows, the generation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from warroom.domain.comms.statuspage import Maintenance, ManualState


class StatusPageStore(Protocol):
    def manual_states(self) -> dict[str, ManualState]: ...

    def set_manual(self, service: str, manual: ManualState | None) -> None:
        """Hold ``manual`` for ``service``; None goes back to the automatic state."""
        ...

    def add_maintenance(
        self,
        services: Sequence[str],
        starts_at: datetime,
        ends_at: datetime,
        text: str,
        by: str,
        at: datetime,
    ) -> Maintenance:
        """Store the window and the alert silences of its services, in force while it runs."""
        ...

    def get_maintenance(self, window_id: int) -> Maintenance | None: ...

    def maintenance(self, ending_after: datetime, *, limit: int = 200) -> list[Maintenance]: ...

    def cancel_maintenance(self, window_id: int, at: datetime) -> None:
        """Cancel (or end early) the window, ending its alert silences at ``at``."""
        ...

    def generation(self) -> int: ...

    def touch(self, at: datetime) -> None:
        """A public event happened: renderings of an older generation are stale."""
        ...
