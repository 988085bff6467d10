"""Per-alert transitions: what one delivered signal does to the stored alert of its fingerprint.

Pure decisions, no I/O and no clock. :func:`transition` compares one delivered
:class:`~warroom.domain.alerts.signals.AlertSignal` with what storage knows of its
fingerprint (:class:`Known`) and names the :class:`Outcome`: nothing, for a redelivery or
a late copy of an older episode; a new alert firing or resolved; a resolution; a new
episode firing again; a PagerDuty acknowledgement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from warroom.domain.alerts.signals import AlertSignal


class Outcome(StrEnum):
    """What one delivered signal does to the stored alert with its fingerprint."""

    NEW_FIRING = "new_firing"
    NEW_RESOLVED = "new_resolved"
    RESOLVED = "resolved"
    REFIRED = "refired"
    ACKNOWLEDGED = "acknowledged"
    UNCHANGED = "unchanged"

    @property
    def fires(self) -> bool:
        """The alert (re)starts firing: routing and incident work follow."""
        return self is _NEW_FIRING or self is _REFIRED

    @property
    def writes(self) -> bool:
        return self is not _UNCHANGED

    @property
    def records(self) -> tuple[str, ...]:
        """The transitions the outcome records, in order: ``firing``, ``resolved`` or both."""
        if self.fires:
            return ("firing",)
        if self is _NEW_RESOLVED:
            return ("firing", "resolved")
        return ("resolved",) if self is _RESOLVED else ()


# The members by plain names, for what runs per alert: reading ``Outcome.X`` goes through the
# enum's metaclass (about 0.13 us a time), and a member's hash and == are Python calls.
_NEW_FIRING, _NEW_RESOLVED, _RESOLVED, _REFIRED, _ACKNOWLEDGED, _UNCHANGED = (
    Outcome.NEW_FIRING,
    Outcome.NEW_RESOLVED,
    Outcome.RESOLVED,
    Outcome.REFIRED,
    Outcome.ACKNOWLEDGED,
    Outcome.UNCHANGED,
)


@dataclass(frozen=True, slots=True)
class Known:
    """What storage knows of one alert, enough to decide a transition."""

    id: int
    status: str
    service: str
    starts_at: datetime | None
    incident: int | None
    acknowledged: bool


def transition(known: Known | None, signal: AlertSignal) -> Outcome:
    """Compare a delivered signal with the stored alert of its fingerprint.

    A redelivery, the same notification from a second Alertmanager, or a late copy of an
    older episode (its ``startsAt`` not after the stored one) changes nothing. A firing
    signal after the alert resolved re-opens it when it starts later (PagerDuty: any
    ``trigger``). PagerDuty ``acknowledge`` and ``resolve`` for an unknown or resolved key
    are dropped, as PagerDuty drops them.
    """
    action = signal.extra.get("event_action") if signal.source == "pagerduty" else None
    if known is None:
        if action in ("acknowledge", "resolve") or not signal.labels:
            return _UNCHANGED
        return _NEW_FIRING if signal.status == "firing" else _NEW_RESOLVED
    if known.status == "firing":
        if signal.status == "resolved":
            return _UNCHANGED if _older(signal, known) else _RESOLVED
        if action == "acknowledge" and not known.acknowledged:
            return _ACKNOWLEDGED
        return _UNCHANGED
    if signal.status == "resolved" or action in ("acknowledge", "resolve"):
        return _UNCHANGED
    if action == "trigger":
        return _REFIRED
    if signal.starts_at is not None and known.starts_at is not None and signal.starts_at <= known.starts_at:
        return _UNCHANGED
    return _REFIRED


def _older(signal: AlertSignal, known: Known) -> bool:
    """The signal reports an episode that started before the stored one."""
    return signal.starts_at is not None and known.starts_at is not None and signal.starts_at < known.starts_at
