"""Severity from impact: shared criteria, not the loudest voice.

Each impact dimension is assessed on its own; the severity is the most severe of them and
always comes with the explanation that names the dimension that decided it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, TypeVar

from warroom.domain.shared.errors import ValidationError


class Severity(IntEnum):
    """SEV1 is the most severe; comparisons follow the number (SEV1 < SEV2)."""

    SEV1 = 1
    SEV2 = 2
    SEV3 = 3
    SEV4 = 4

    def __str__(self) -> str:
        return self.name

    @classmethod
    def parse(cls, text: str | int, field: str = "severity") -> Severity:
        """``SEV1``..``SEV4``, ``1``..``4``, or a paging priority ``P1``..``P5``
        (:data:`PRIORITIES`), in any case."""
        raw = str(text).strip().upper()
        if raw.isascii() and raw.isdecimal():
            raw = f"SEV{raw}"
        if raw in PRIORITIES:
            return PRIORITIES[raw]
        try:
            return cls[raw]
        except KeyError:
            raise ValidationError(
                field, f"{text!r} is not one of SEV1, SEV2, SEV3, SEV4 (or P1..P5)"
            ) from None


PRIORITIES: dict[str, Severity] = {
    "P1": Severity.SEV1,
    "P2": Severity.SEV2,
    "P3": Severity.SEV3,
    "P4": Severity.SEV4,
    "P5": Severity.SEV4,
}
"""Paging priorities as severities, the one table webhooks and people share: ``P1`` is
SEV1 down to ``P4``; ``P5`` is SEV4 too (warroom has four levels; an alert's ``P5`` reads
as ``info`` like ``P4``). ``domain.alerts.signals`` maps alert severities through it."""


class IncidentKind(StrEnum):
    AVAILABILITY = "availability"
    LATENCY = "latency"
    DATA_INTEGRITY = "data_integrity"
    SECURITY = "security"


class DataIntegrity(StrEnum):
    NONE = "none"
    AT_RISK = "at_risk"
    CORRUPTED = "corrupted"
    LOST = "lost"


class SecurityImpact(StrEnum):
    NONE = "none"
    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"


E = TypeVar("E", bound=StrEnum)


def parse_enum(enum: type[E], text: str, field: str) -> E:
    """Parse an enum value by its text, naming the allowed values on failure."""
    try:
        return enum(text.strip().lower())
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise ValidationError(field, f"{text!r} is not one of {allowed}") from None


@dataclass(frozen=True)
class Impact:
    """The impact dimensions, each assessed separately.

    ``customer_share`` is the share of users or requests affected (0..1, None = unknown);
    ``critical_journey`` names a critical user journey that is down (None = none is);
    ``financial_per_hour`` is the estimated loss per hour in the organisation's currency.
    """

    customer_share: float | None = None
    critical_journey: str | None = None
    financial_per_hour: float | None = None
    data_integrity: DataIntegrity = DataIntegrity.NONE
    security: SecurityImpact = SecurityImpact.NONE

    def __post_init__(self) -> None:
        share = self.customer_share
        if share is not None and not (0.0 <= share <= 1.0):
            raise ValidationError("customer_impact", "must be a share between 0 and 1 (or 0-100%)")
        money = self.financial_per_hour
        if money is not None and (money < 0 or money != money or money == float("inf")):
            raise ValidationError("financial_per_hour", "must be a finite amount >= 0")
        if self.critical_journey is not None and not self.critical_journey.strip():
            raise ValidationError("critical_journey", "is empty")

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_share": self.customer_share,
            "critical_journey": self.critical_journey,
            "financial_per_hour": self.financial_per_hour,
            "data_integrity": self.data_integrity.value,
            "security": self.security.value,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Impact:
        return cls(
            customer_share=data.get("customer_share"),
            critical_journey=data.get("critical_journey"),
            financial_per_hour=data.get("financial_per_hour"),
            data_integrity=DataIntegrity(data.get("data_integrity", "none")),
            security=SecurityImpact(data.get("security", "none")),
        )

    def merged(self, changes: dict[str, Any]) -> Impact:
        """This impact with the given dimensions re-assessed (unset keys keep their value)."""
        data = self.to_dict()
        data.update({key: value for key, value in changes.items() if key in data})
        return Impact.from_dict(data)


@dataclass(frozen=True)
class SeverityPolicy:
    """Thresholds of the default policy; every one is configurable in ``warroom.toml``."""

    sev1_customer_share: float = 0.25
    sev2_customer_share: float = 0.05
    sev1_financial_per_hour: float = 100_000.0
    sev2_financial_per_hour: float = 10_000.0
    data_integrity_floor: Severity = Severity.SEV2


@dataclass(frozen=True)
class Verdict:
    """The policy's severity and every reason that reached it, most severe first."""

    severity: Severity
    reasons: tuple[str, ...] = field(default=())

    @property
    def explanation(self) -> str:
        if not self.reasons:
            return f"{self.severity}: no measurable impact assessed"
        return f"{self.severity}: " + "; ".join(self.reasons)


def _pct(share: float) -> str:
    return f"{share * 100:.4g}%"


def _money(amount: float) -> str:
    return f"{amount:,.0f}/h"


def assess(impact: Impact, kind: IncidentKind, policy: SeverityPolicy) -> Verdict:
    """Map the impact dimensions to a severity: the most severe dimension decides."""
    findings: list[tuple[Severity, str]] = []
    share = impact.customer_share
    if share is not None:
        if share >= policy.sev1_customer_share:
            findings.append(
                (
                    Severity.SEV1,
                    f"customer impact {_pct(share)} >= {_pct(policy.sev1_customer_share)}",
                )
            )
        elif share >= policy.sev2_customer_share:
            findings.append(
                (
                    Severity.SEV2,
                    f"customer impact {_pct(share)} >= {_pct(policy.sev2_customer_share)}",
                )
            )
        elif share > 0:
            findings.append((Severity.SEV3, f"customer impact {_pct(share)} is measurable"))
    if impact.critical_journey:
        findings.append((Severity.SEV1, f"critical journey '{impact.critical_journey}' is down"))
    money = impact.financial_per_hour
    if money is not None:
        if money >= policy.sev1_financial_per_hour:
            findings.append(
                (
                    Severity.SEV1,
                    f"financial loss {_money(money)} >= {_money(policy.sev1_financial_per_hour)}",
                )
            )
        elif money >= policy.sev2_financial_per_hour:
            findings.append(
                (
                    Severity.SEV2,
                    f"financial loss {_money(money)} >= {_money(policy.sev2_financial_per_hour)}",
                )
            )
        elif money > 0:
            findings.append((Severity.SEV3, f"financial loss {_money(money)} is measurable"))
    if impact.data_integrity in (DataIntegrity.CORRUPTED, DataIntegrity.LOST):
        findings.append((Severity.SEV1, f"data {impact.data_integrity.value}"))
    elif impact.data_integrity is DataIntegrity.AT_RISK:
        findings.append((Severity.SEV2, "data at risk"))
    if impact.security is SecurityImpact.CONFIRMED:
        findings.append((Severity.SEV1, "security breach confirmed"))
    elif impact.security is SecurityImpact.SUSPECTED:
        findings.append((Severity.SEV2, "security breach suspected"))
    if kind is IncidentKind.DATA_INTEGRITY:
        floor = policy.data_integrity_floor
        findings.append((floor, f"data-integrity incidents have a floor of {floor}"))
    if not findings:
        return Verdict(Severity.SEV4)
    findings.sort(key=lambda item: item[0])
    top = findings[0][0]
    return Verdict(top, tuple(reason for sev, reason in findings if sev == top))
