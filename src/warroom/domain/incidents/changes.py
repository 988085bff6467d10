"""Changes near an incident: deploys, config, flags, infrastructure, dependency incidents."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


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
