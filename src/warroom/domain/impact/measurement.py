"""The impact probe's measurement of an incident: readings, estimates, severity, summary.

``probe`` reads each indicator; this module adds up a service's customer impact and
financial loss, runs them through the severity policy with the incident's other
dimensions, and builds the ``impact_measured`` payload with its one-line summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from warroom.domain.impact.analysis import estimate_customer_impact, estimate_financial_loss_per_hour
from warroom.domain.impact.onset import meets
from warroom.domain.impact.probe import ProbePolicy, Reading, finite
from warroom.domain.incidents.catalog import Service
from warroom.domain.incidents.commands import ensure_writable
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.severity import SeverityPolicy, assess
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.timefmt import EARLIEST, iso

# --- services: customer impact and financial loss ---------------------------------------


def _share(value: float) -> float:
    return min(1.0, max(0.0, value))


def _traffic_shares(readings: Sequence[Reading]) -> dict[str, float]:
    """Each slice's share of its dimension's traffic, from a ``traffic`` indicator."""
    shares: dict[str, float] = {}
    for reading in readings:
        if reading.indicator.kind != "traffic" or not reading.measured:
            continue
        for slices in reading.series.splits.values():
            values = {name: reading.slice_current.get(name) for name in slices}
            total = sum(v for v in values.values() if v is not None and v > 0)
            for name, value in values.items():
                if total > 0 and value is not None and value > 0:
                    shares[name] = value / total
        break
    return shares


@dataclass(frozen=True)
class Estimate:
    """A service's measured customer impact (share of all requests) and loss per hour."""

    customer_share: float | None
    financial_per_hour: float | None
    reasons: tuple[str, ...]


def estimate(service: Service, readings: Sequence[Reading]) -> Estimate:
    """Customer impact: error ratio above baseline times traffic share, the largest of the
    whole service and of each split, times the service's ``user_share``; a latency breach
    counts the traffic share of the slices over their SLO. Loss: the error ratio above
    baseline times ``revenue_per_minute``, per hour."""
    users = 1.0 if service.user_share is None else service.user_share
    shares = _traffic_shares(readings)
    customer: float | None = None
    money: float | None = None
    reasons: list[str] = []
    for reading in readings:
        ind, record = reading.indicator, reading.record
        if not reading.measured or reading.current is None or reading.reference is None:
            continue
        if ind.kind == "error_ratio":
            base = _share(reading.reference) if record["baseline"]["source"] != "none" else 0.0
            err = _share(reading.current)
            share = estimate_customer_impact(err, 1.0, baseline_error_ratio=min(base, err))
            for radius in record["blast_radius"]:
                if radius["deviating"] and all(d["slice"] in shares for d in radius["deviating"]):
                    sliced = sum(
                        estimate_customer_impact(
                            _share(d["current"] or 0.0),
                            shares[d["slice"]],
                            baseline_error_ratio=min(
                                _share(d["baseline"] or 0.0), _share(d["current"] or 0.0)
                            ),
                        )
                        for d in radius["deviating"]
                    )
                    share = max(share, sliced)
            customer = max(customer or 0.0, share * users)
            reasons.append(f"{ind.name}: {share * users:.2%} of requests fail above baseline")
            if service.revenue_per_minute is not None:
                loss = estimate_financial_loss_per_hour(
                    err, service.revenue_per_minute, baseline_error_ratio=min(base, err)
                )
                money = max(money or 0.0, loss)
        elif ind.kind == "latency" and shares:
            # The slices of one dimension only: each request lies in one slice of each.
            slow = max(
                (
                    sum(
                        shares.get(d["slice"], 0.0)
                        for d in radius["deviating"]
                        if d["current"] is not None and not meets(d["current"], ind.slo, ind.higher_is_worse)
                    )
                    for radius in record["blast_radius"]
                ),
                default=0.0,
            )
            if slow > 0:
                customer = max(customer or 0.0, slow * users)
                reasons.append(f"{ind.name}: {slow * users:.2%} of requests in slices over the SLO")
            elif customer is None:
                customer = 0.0
    return Estimate(finite(customer), finite(money), tuple(reasons))


# --- the measurement --------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceReadings:
    """One service's readings, or why it could not be measured at all."""

    service: Service
    readings: Sequence[Reading] = ()
    error: str | None = None


def impact_start_of(state: IncidentState) -> tuple[datetime, str]:
    """When impact started, best known: the stated start, else detection, else declaration.

    A milestone before 1970 (only an older version could store one) is passed over, and a
    declaration that old reads as 1970: the probe computes query ranges back from this
    time, and reads must not fail on arithmetic at the start of the calendar."""
    for name in ("impact_started_at", "detected_at", "declared_at"):
        at = state.at(name)
        if at is not None and (at >= EARLIEST or name == "declared_at"):
            return max(at, EARLIEST), name
    raise ValueError(f"{state.ref} has no milestone to measure from")


def measurement(
    state: IncidentState,
    measured: Sequence[ServiceReadings],
    *,
    now: datetime,
    policy: ProbePolicy,
    severity: SeverityPolicy,
) -> dict[str, Any]:
    """The payload of an ``impact_measured`` event: every reading, the estimates, the
    severity the policy gives them (with the incident's other dimensions as assessed),
    and a one-line ``summary``."""
    start, start_from = impact_start_of(state)
    services: list[dict[str, Any]] = []
    customer: float | None = None
    money: float | None = None
    reasons: list[str] = []
    any_measured = any(r.measured for s in measured for r in s.readings)
    for item in measured:
        guess = estimate(item.service, item.readings)
        if guess.customer_share is not None:
            customer = max(customer or 0.0, guess.customer_share)
        if guess.financial_per_hour is not None:
            money = max(money or 0.0, guess.financial_per_hour)
        reasons += [f"{item.service.name} {reason}" for reason in guess.reasons]
        services.append(
            {
                "service": item.service.name,
                "error": item.error,
                "customer_share": guess.customer_share,
                "financial_per_hour": guess.financial_per_hour,
                "indicators": [r.record for r in item.readings],
            }
        )
    left = sorted(
        r.record["left_slo_at"] for s in measured for r in s.readings if r.record.get("left_slo_at")
    )
    payload: dict[str, Any] = {
        "measured_at": iso(now),
        "left_slo_at": left[0] if left else None,
        "impact_start": iso(start),
        "impact_start_from": start_from,
        "customer_share": customer,
        "financial_per_hour": money,
        "estimates": reasons,
        "services": services,
        "severity": None,
        "explanation": None,
        "policy": {
            "baseline_window_seconds": policy.baseline_window.total_seconds(),
            "trend_seconds": policy.trend_lookback.total_seconds(),
            "deviation_share": policy.deviation_share,
        },
    }
    errors = [s.error for s in measured if s.error] + [
        r.record["error"] for s in measured for r in s.readings if r.record.get("error")
    ]
    if any_measured:
        changes: dict[str, Any] = {}
        if customer is not None:
            changes["customer_share"] = customer
        if money is not None:
            changes["financial_per_hour"] = money
        if changes:
            verdict = assess(state.impact.merged(changes), state.kind, severity)
            payload["severity"] = verdict.severity.name
            payload["explanation"] = verdict.explanation
        payload["status"] = "partial" if errors else "measured"
    elif errors:
        payload["status"] = "unavailable"
    else:
        payload["status"] = "no_data"
    payload["error"] = errors[0] if errors else None
    payload["summary"] = _summary(payload, measured)
    return payload


def _summary(payload: dict[str, Any], measured: Sequence[ServiceReadings]) -> str:
    if payload["status"] == "unavailable":
        return f"impact probe blind: {payload['error']}"
    if payload["status"] == "no_data":
        return "impact probe: no data for any indicator of " + ", ".join(s.service.name for s in measured)
    lines: list[str] = []
    for item in measured:
        breaking = [r for r in item.readings if r.measured and r.record["deviating"]]
        shown = breaking or [r for r in item.readings if r.measured][:1]
        lines += [f"{item.service.name} {r.record['line']}" for r in shown]
    parts = [" | ".join(lines)]
    if payload["customer_share"] is not None:
        parts.append(f"customer impact {payload['customer_share']:.2%}")
    if payload["financial_per_hour"] is not None:
        parts.append(f"loss {payload['financial_per_hour']:,.0f}/h")
    if payload["severity"]:
        parts.append(f"measured {payload['severity']}")
    if payload["status"] == "partial":
        parts.append(f"partly blind: {payload['error']}")
    return "; ".join(parts)


def record_measurement(state: IncidentState, payload: dict[str, Any], *, at: datetime) -> list[NewEvent]:
    """The ``impact_measured`` event for ``payload``; a closed incident takes no more."""
    ensure_writable(state)
    return [NewEvent("impact_measured", payload, at)]


def last_good(state: IncidentState) -> dict[str, Any] | None:
    """The most recent measurement that measured something (a blind one keeps it along)."""
    measured = state.measured
    if measured is None:
        return None
    if measured.get("status") in ("measured", "partial"):
        return measured
    kept = measured.get("last_good")
    return kept if isinstance(kept, dict) else None
