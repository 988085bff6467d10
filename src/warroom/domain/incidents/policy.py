"""The organisation's response policy: severity thresholds, update cadence, rotation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from warroom.domain.incidents.severity import Severity, SeverityPolicy


def _default_cadence() -> dict[Severity, timedelta | None]:
    return {
        Severity.SEV1: timedelta(minutes=15),
        Severity.SEV2: timedelta(minutes=30),
        Severity.SEV3: timedelta(minutes=60),
        Severity.SEV4: None,
    }


@dataclass(frozen=True)
class ResponsePolicy:
    """Everything the domain needs to judge an incident besides its own events."""

    severity: SeverityPolicy = field(default_factory=SeverityPolicy)
    cadence: dict[Severity, timedelta | None] = field(default_factory=_default_cadence)
    rotation: timedelta = timedelta(hours=4)
    change_window: timedelta = timedelta(hours=6)
    max_text: int = 4000
    max_title: int = 200

    def cadence_for(self, severity: Severity) -> timedelta | None:
        return self.cadence.get(severity)
