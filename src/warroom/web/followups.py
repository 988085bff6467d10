"""``/follow-ups``: the follow-ups of every incident in one list, overdue first.

Filters (owner, team, status, overdue only) are a GET form, so a filtered list is a link
to share. Each open item has its "Done" and "Won't do" forms; they post to the incident's
own actions (``web.forms.ACTIONS``) with ``return_to`` naming this page, and the browser
comes back here, filters kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response

from warroom.domain.shared.errors import DomainError
from warroom.services.learning import operations as lops
from warroom.web.forms import status_of
from warroom.web.visits import _page, _to_login, _visit

FILTERS = ("owner", "team", "status", "overdue")
STATUSES = ("open", "done", "wontdo", "all")
MAX_FILTER = 200  # characters of a filter value


def _filters(request: Request) -> dict[str, str]:
    found = {key: request.query_params.get(key, "").strip()[:MAX_FILTER] for key in FILTERS}
    found["overdue"] = "true" if found["overdue"] in ("true", "on", "1", "yes") else ""
    return found


def by_owner(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Open follow-ups per owner, the owner with the most overdue first."""
    owners: dict[str, dict[str, Any]] = {}
    for item in items:
        if item["status"] != "open":
            continue
        row = owners.setdefault(item["owner"], {"owner": item["owner"], "open": 0, "overdue": 0})
        row["open"] += 1
        row["overdue"] += 1 if item["overdue"] else 0
    return sorted(owners.values(), key=lambda r: (-r["overdue"], -r["open"], r["owner"]))


def followups_page(request: Request) -> Response:
    visit = _visit(request)
    if visit.user is None:
        return _to_login(request)
    filters = _filters(request)
    query = {key: value for key, value in filters.items() if value}
    here = "/follow-ups" + (f"?{urlencode(query)}" if query else "")
    teams = [team.name for team in visit.app.context.catalog.teams]
    context: dict[str, Any] = {
        "filters": filters,
        "statuses": STATUSES,
        "teams": teams,
        "here": here,
        "items": [],
        "owners": [],
    }
    try:
        items = lops.followup_list(visit.app.context, query)
    except DomainError as exc:
        return _page(request, visit, "followups.html", status=status_of(exc), error=exc.message, **context)
    context |= {"items": items, "owners": by_owner(items)}
    return _page(request, visit, "followups.html", **context)
