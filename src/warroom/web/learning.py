"""Web pages of learning: the reliability report with SVG charts, and the router of the
learning pages (the postmortem: ``web.postmortem``; follow-ups: ``web.followups``).
Anonymous visitors go to ``/login``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from warroom.domain.shared.errors import DomainError
from warroom.services.learning import operations as lops
from warroom.web import followups, postmortem, report_view, session

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
            "report.html", user, status=422, error=exc.message, filters=filters, report=None, charts=[]
        )
    return postmortem.page(
        "report.html",
        user,
        filters=filters,
        report=view,
        charts=report_view.charts(view),
        rate=report_view.rate_text,
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
