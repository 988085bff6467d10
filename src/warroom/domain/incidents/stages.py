"""The stage a public update announces: investigating, identified, monitoring, resolved.

The stage follows the lifecycle unless the person posting names one: an incident in triage
is being investigated until a fact is confirmed or a mitigation proposed (the cause is
identified), a mitigated one is monitored, a resolved or closed one is resolved.
"""

from __future__ import annotations

from warroom.domain.incidents.state import IncidentState, Status
from warroom.domain.shared.errors import ValidationError

STAGES = ("investigating", "identified", "monitoring", "resolved")


def stage_of(state: IncidentState) -> str:
    """The stage ``state`` is in, from its lifecycle."""
    if state.status in (Status.RESOLVED, Status.CLOSED):
        return "resolved"
    if state.status is Status.MITIGATED:
        return "monitoring"
    identified = state.status is Status.MITIGATING or state.mitigations
    if identified or any(entry.status in ("fact", "confirmed") for entry in state.ledger):
        return "identified"
    return "investigating"


def checked_stage(stage: str | None) -> str | None:
    """``stage`` lower-cased, or a ValidationError naming the stages; None stays None."""
    if stage is None or not stage.strip():
        return None
    word = stage.strip().lower()
    if word not in STAGES:
        raise ValidationError("stage", f"{stage!r} is not one of {', '.join(STAGES)}")
    return word
