"""What the report page draws from the reliability review: its charts, and rates in words.

A chart with nothing to draw is not drawn: its place says why in a sentence (no service
has all its follow-ups done yet, no factor type recurs). A rate "per 30 days" is only
given over at least :data:`MIN_RATE_DAYS` days of data; over less it says ``3 in 2 days``
(15 minutes of data would otherwise read as thousands of incidents a month). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from markupsafe import Markup

from warroom.domain.shared.timefmt import from_iso, human_duration
from warroom.web.report_charts import bars, columns

MIN_RATE_DAYS = 7
DAY = 86_400.0


def _minutes(seconds: float) -> str:
    return human_duration(timedelta(seconds=seconds))


def span_days(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (from_iso(end) - from_iso(start)).total_seconds() / DAY


def rate_text(incidents: int, start: str | None, end: str | None) -> str:
    """``0.75 per 30 days`` over a week or more of data; ``3 in 2 days`` (``in 5 hours``,
    ``in under an hour``) below."""
    days = span_days(start, end)
    if days is None or days <= 0:
        return f"{incidents} (no time span)"
    if days < MIN_RATE_DAYS:
        hours = days * 24
        span = f"{days:.0f} days" if days >= 2 else f"{hours:.0f} hours" if hours >= 1.5 else "under an hour"
        return f"{incidents} in {span}"
    return f"{incidents / (days / 30):.2f} per 30 days"


def _rated(period: Mapping[str, Any] | None) -> bool:
    days = span_days(period.get("start"), period.get("end")) if period else None
    return days is not None and days >= MIN_RATE_DAYS


def _measured(rows: Sequence[tuple[str, Sequence[float | None]]]) -> bool:
    return any(value is not None for _, values in rows for value in values)


def charts(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each chart: ``title``, ``svg`` (Markup; None when there is nothing to draw) and
    ``empty`` (why not)."""
    months = view["by_month"]
    services = view["by_service"]
    mitigate = "time_to_mitigate"
    by_month = [(m["key"], (m[mitigate]["median_seconds"], m[mitigate]["p90_seconds"])) for m in months]
    by_service = [(s["key"], (s[mitigate]["median_seconds"], s[mitigate]["p90_seconds"])) for s in services]
    done = [s for s in services if s["fixes"]["status"] == "done"]
    fixes = [
        (
            s["key"],
            (s["fixes"]["before"]["incidents_per_30_days"], s["fixes"]["after"]["incidents_per_30_days"]),
        )
        for s in done
        if _rated(s["fixes"]["before"]) and _rated(s["fixes"]["after"])
    ]
    factors: list[tuple[str, Sequence[float | None]]] = [
        (f["key"], (float(f["incidents"]),)) for f in view["recurring_factors"]
    ]
    unmitigated = "No incident in this window has a time to mitigate yet."
    found: list[tuple[str, str | None, str]] = [
        (
            "Incidents per month",
            columns("Incidents per month", [(m["key"], float(m["incidents"])) for m in months])
            if months
            else None,
            "No incidents in this window.",
        ),
        (
            "Time to mitigate per month (median, p90)",
            bars("Time to mitigate per month", by_month, ("median", "p90"), fmt=_minutes)
            if _measured(by_month)
            else None,
            unmitigated,
        ),
        (
            "Time to mitigate per service (median, p90)",
            bars("Time to mitigate per service", by_service, ("median", "p90"), fmt=_minutes)
            if _measured(by_service)
            else None,
            unmitigated,
        ),
        (
            "Incidents per 30 days before and after each service's follow-ups were done",
            bars(
                "Incidents per 30 days, before and after fixes",
                fixes,
                ("before", "after"),
                fmt=lambda v: f"{v:.2f}",
            )
            if _measured(fixes)
            else None,
            "No service has a week of data on both sides of its follow-ups being done yet."
            if done
            else "No service has all its follow-ups done yet: nothing to compare.",
        ),
        (
            "Contributing-factor types that recur (incidents)",
            bars("Contributing-factor types that recur", factors, ("incidents",)) if factors else None,
            "No contributing-factor type appears in two or more incidents yet.",
        ),
    ]
    # report_charts escapes every text it draws
    return [
        {"title": title, "svg": Markup(svg) if svg is not None else None, "empty": empty}
        for title, svg, empty in found
    ]
