"""Web pages of learning: the reliability report with SVG charts, and the router of the
learning pages (the postmortem: ``web.postmortem``; follow-ups: ``web.followups``).
Anonymous visitors go to ``/login``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from markupsafe import Markup

from warroom.domain.shared.errors import DomainError
from warroom.domain.shared.timefmt import human_duration
from warroom.services.learning import operations as lops
from warroom.web import followups, postmortem, session
from warroom.web.report_charts import bars, columns

CSS = Path(__file__).parent / "static" / "learning.css"
REPORT_FILTERS = ("since", "until", "service", "severity")
DURATIONS = (
    ("time_to_detect", "detect"),
    ("time_to_declare", "declare"),
    ("time_to_acknowledge", "acknowledge"),
    ("time_to_mitigate", "mitigate"),
    ("time_to_resolve", "resolve"),
)


# --- the report ----------------------------------------------------------------------------


def _minutes(seconds: float) -> str:
    return human_duration(timedelta(seconds=seconds))


def _charts(view: dict[str, Any]) -> dict[str, Markup]:
    months = view["by_month"]
    services = view["by_service"]
    mitigate = "time_to_mitigate"
    charts = {
        "per_month": columns("Incidents per month", [(m["key"], float(m["incidents"])) for m in months]),
        "mitigate_month": bars(
            "Time to mitigate per month (median, p90)",
            [(m["key"], (m[mitigate]["median_seconds"], m[mitigate]["p90_seconds"])) for m in months],
            ("median", "p90"),
            fmt=_minutes,
        ),
        "mitigate_service": bars(
            "Time to mitigate per service (median, p90)",
            [(s["key"], (s[mitigate]["median_seconds"], s[mitigate]["p90_seconds"])) for s in services],
            ("median", "p90"),
            fmt=_minutes,
        ),
        "fixes": bars(
            "Incidents per 30 days before and after each service's follow-ups were done",
            [
                (
                    s["key"],
                    (
                        s["fixes"]["before"]["incidents_per_30_days"],
                        s["fixes"]["after"]["incidents_per_30_days"],
                    ),
                )
                for s in services
                if s["fixes"]["status"] == "done"
            ],
            ("before", "after"),
            fmt=lambda v: f"{v:.2f}",
        ),
        "factors": bars(
            "Contributing-factor types that recur (incidents)",
            [(f["key"], (float(f["incidents"]),)) for f in view["recurring_factors"]],
            ("incidents",),
        ),
    }
    # report_charts escapes every text it draws
    return {name: Markup(svg) for name, svg in charts.items()}


def report_page(request: Request) -> Response:
    user = postmortem.user_of(request)
    if user is None:
        return postmortem.to_login(request)
    filters = {key: request.query_params.get(key, "").strip() for key in REPORT_FILTERS}
    ctx = session.app_of(request).context
    try:
        view = lops.report(ctx, {key: value for key, value in filters.items() if value})
    except DomainError as exc:
        return postmortem.page(
            "report.html", user, status=422, error=exc.message, filters=filters, report=None, charts={}
        )
    return postmortem.page(
        "report.html",
        user,
        filters=filters,
        report=view,
        charts=_charts(view),
        durations=DURATIONS,
        json_link="/api/v1/report?" + urlencode({k: v for k, v in filters.items() if v}),
    )


def stylesheet() -> Response:
    return Response(
        CSS.read_bytes(),
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


def build_learning_web_router() -> APIRouter:
    """The learning pages; ``server.create_app`` includes them next to the web room."""
    router = APIRouter(include_in_schema=False)
    router.add_api_route("/incidents/{ref}/postmortem", postmortem.postmortem_page, methods=["GET"])
    router.add_api_route("/incidents/{ref}/postmortem.md", postmortem.postmortem_markdown, methods=["GET"])
    router.add_api_route("/postmortem/lint", postmortem.lint_section, methods=["POST"])
    router.add_api_route("/follow-ups", followups.followups_page, methods=["GET"])
    router.add_api_route("/report", report_page, methods=["GET"])
    router.add_api_route("/learning/learning.css", stylesheet, methods=["GET"])
    return router
