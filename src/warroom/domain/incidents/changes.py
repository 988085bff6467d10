"""Changes near an incident: deploys, config, flags, infrastructure, dependency incidents."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

FUTURE_SLACK = timedelta(minutes=5)
"""How far after now a change's time may lie (the sender's clock a little ahead of ours);
the rest of its window is the observed one (``timefmt.observed_time``: 1970 or later)."""


class ChangeKind(StrEnum):
    DEPLOY = "deploy"
    CONFIG = "config"
    FLAG = "flag"
    INFRA = "infra"
    DEPENDENCY = "dependency"


@dataclass(frozen=True)
class Change:
    """One recorded change; ``dedup`` keeps webhook redeliveries from being stored twice."""

    service: str
    kind: ChangeKind
    at: datetime
    summary: str
    actor: str
    source: str = "cli"
    dedup: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
