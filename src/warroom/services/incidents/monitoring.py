"""What the operations endpoints report about the incidents: readiness and open counts."""

from __future__ import annotations

from collections import Counter

from warroom.services.ports.incidents import IncidentFilter
from warroom.services.shared.context import Context

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
# The read model is listed, not folded; past this many open incidents the count saturates.
MAX_COUNTED = 100_000


def database_ready(ctx: Context) -> None:
    """Raises when the database cannot answer a read of the incident read model."""
    with ctx.uow() as uow:
        uow.incidents.version(0)


def open_by_severity(ctx: Context) -> dict[str, int]:
    """Open incidents per severity, from the read model (every severity present, maybe 0)."""
    with ctx.uow() as uow:
        rows = uow.incidents.summaries(IncidentFilter(open_only=True, limit=MAX_COUNTED))
    counts = Counter(row.severity for row in rows)
    return {sev: counts.get(sev, 0) for sev in SEVERITIES}
