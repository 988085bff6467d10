"""Web pages of learning: the postmortem (printable) and the reliability report with SVG
charts. Read-only pages for any logged-in token; anonymous visitors go to ``/login``.
Writing postmortems happens in the CLI and the API (``warroom postmortem edit``).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from warroom.domain.incidents.refs import parse_ref
from warroom.domain.learning.markdown import HUMAN_TITLES
from warroom.domain.shared.errors import DomainError, NotFound, ValidationError
from warroom.domain.shared.timefmt import human_duration
from warroom.services.incidents.commands import incident_version
from warroom.services.learning import operations as lops
from warroom.web import flash, session
from warroom.web.report_charts import bars, columns
from warroom.web.session import User
from warroom.web.templating import SECURITY_HEADERS, render

CSS = Path(__file__).parent / "static" / "learning.css"
REPORT_FILTERS = ("since", "until", "service", "severity")
DURATIONS = (
    ("time_to_detect", "detect"),
    ("time_to_declare", "declare"),
    ("time_to_acknowledge", "acknowledge"),
    ("time_to_mitigate", "mitigate"),
    ("time_to_resolve", "resolve"),
)


def _user(request: Request) -> User | None:
    return session.user_of(session.app_of(request), session.load(request))


def _login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _page(template: str, user: User, *, status: int = 200, **context: Any) -> HTMLResponse:
    values = {"user": user, "csrf": "", "error": None, "values": {}, "failed": None} | context
    return HTMLResponse(render(template, **values), status_code=status, headers=SECURITY_HEADERS)


def _problem(user: User, exc: DomainError) -> HTMLResponse:
    status = 404 if isinstance(exc, NotFound) or getattr(exc, "field", None) == "incident" else 422
    if not isinstance(exc, ValidationError | NotFound):
        status = 409
    return _page("error.html", user, status=status, message=exc.message, status_code=status)


# --- the postmortem -------------------------------------------------------------------------


def postmortem_page(request: Request, ref: str) -> Response:
    user = _user(request)
    if user is None:
        return _login(request)
    ctx = session.app_of(request).context
    found = session.load(request)
    shown = flash.take(request)  # a refused postmortem or follow-up form (post/redirect/get)
    context: dict[str, Any] = {"csrf": found.csrf if found else "", "human_titles": HUMAN_TITLES}
    if shown is not None:
        context |= {"error": shown.error, "failed": shown.failed, "values": shown.values}
    try:
        view = lops.postmortem_show(ctx, ref, {"format": "json"})
        context |= {"pm": view, "doc": view["document"], "incident_id": view["incident"]}
    except NotFound as exc:  # none drafted yet: offer to draft it
        if incident_version(ctx, ref) is None:
            return _problem(user, exc)
        context |= {"pm": None, "doc": None, "incident_id": f"INC-{parse_ref(ref)}", "missing": exc.message}
    except DomainError as exc:
        return _problem(user, exc)
    response = _page("postmortem.html", user, **context)
    if shown is not None:
        flash.clear(response)
    return response


def postmortem_markdown(request: Request, ref: str) -> Response:
    user = _user(request)
    if user is None:
        return _login(request)
    try:
        view = lops.postmortem_show(session.app_of(request).context, ref, {"format": "md"})
    except DomainError as exc:
        return _problem(user, exc)
    name = f"postmortem-{view['incident']}.md"
    return Response(
        view["markdown"],
        media_type="text/markdown; charset=utf-8",
        headers=SECURITY_HEADERS | {"Content-Disposition": f'inline; filename="{name}"'},
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
    user = _user(request)
    if user is None:
        return _login(request)
    filters = {key: request.query_params.get(key, "").strip() for key in REPORT_FILTERS}
    ctx = session.app_of(request).context
    try:
        view = lops.report(ctx, {key: value for key, value in filters.items() if value})
    except DomainError as exc:
        return _page(
            "report.html", user, status=422, error=exc.message, filters=filters, report=None, charts={}
        )
    return _page(
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
    router.add_api_route("/incidents/{ref}/postmortem", postmortem_page, methods=["GET"])
    router.add_api_route("/incidents/{ref}/postmortem.md", postmortem_markdown, methods=["GET"])
    router.add_api_route("/report", report_page, methods=["GET"])
    router.add_api_route("/learning/learning.css", stylesheet, methods=["GET"])
    return router
