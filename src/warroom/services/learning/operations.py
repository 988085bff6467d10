"""Learning operations with plain inputs and JSON views out, for the CLI, API and web.

Like ``services.operations``: inputs arrive as text, numbers and booleans from a command
line, a form or a JSON body, are parsed here with errors naming the field, and every
interface prints the same document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from warroom.domain.incidents.refs import parse_ref
from warroom.domain.incidents.severity import Severity
from warroom.domain.incidents.state import Followup
from warroom.domain.learning.blameless import Finding, lint_document
from warroom.domain.learning.history_import import FORMATS, parse_history
from warroom.domain.learning.markdown import to_markdown
from warroom.domain.learning.postmortem import EDITABLE, FACTOR_TYPES, TEXT_SECTIONS
from warroom.domain.shared.errors import ValidationError
from warroom.domain.shared.serial import to_data
from warroom.domain.shared.timefmt import TIME_FORMS, from_iso, iso, parse_when
from warroom.services.learning import cases as cases
from warroom.services.ports.learning import FollowupFilter, FollowupItem
from warroom.services.shared.context import Context

View = dict[str, Any]
MAX_LIST = 1000
LINT_LIMIT = 20_000  # characters one section may send to the as-you-type lint


# --- parsing --------------------------------------------------------------------------------


def _str(body: Mapping[str, Any], key: str, default: str = "") -> str:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValidationError(key, "must be text")
    return value


def _bool(body: Mapping[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on", "false", "0", "no", "off", ""):
        return value.lower() in ("true", "1", "yes", "on")
    raise ValidationError(key, "must be true or false")


def parse_due(value: Any, now: datetime, field: str = "due") -> datetime | None:
    """A due date in the one time grammar (``timefmt.parse_when``): ``2026-12-01`` (the end
    of that day, UTC), an ISO 8601 time, ``in 2w``, or a bare ``14d`` from now.

    Only parsed here: the follow-up rule bounds it (``timefmt.planned_time``: from now to
    about ten years ahead), whichever interface it came from."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError(field, f"must be text: {TIME_FORMS}")
    return parse_when(value, field, now, ahead=True, day_end=True)


def parse_bound(value: Any, field: str, now: datetime) -> datetime | None:
    """A report bound: a month ``2026-03`` (its first day), or any form of the one time
    grammar (a date is its midnight UTC; ``30d`` is thirty days ago)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError(field, f"must be text: {TIME_FORMS}")
    text = value.strip()
    if re.match(r"^\d{4}-\d{2}$", text):
        text += "-01"
    return parse_when(text, field, now)


def _severity(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(Severity.parse(value))


def _limit(value: Any) -> int:
    limit = value if value not in (None, "") else 500
    if isinstance(limit, str) and limit.isdecimal():
        limit = int(limit)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST:
        raise ValidationError("limit", f"must be between 1 and {MAX_LIST}")
    return limit


# --- views ----------------------------------------------------------------------------------


def finding_view(finding: Finding) -> View:
    return {
        "rule": finding.rule,
        "location": finding.location,
        "line": finding.line,
        "column": finding.column,
        "text": finding.text,
        "message": finding.message,
        "suggestion": finding.suggestion,
    }


def followup_view(item: Followup, now: datetime, incident: int | None = None) -> View:
    overdue = item.status == "open" and item.due < now
    view: View = to_data(item) | {"overdue": overdue}
    view["overdue_seconds"] = (now - item.due).total_seconds() if overdue else None
    if incident is not None:
        view["incident"] = f"INC-{incident}"
    return view


def _listed(item: FollowupItem, now: datetime) -> View:
    return followup_view(item.followup, now, item.incident) | {
        "incident_title": item.incident_title,
        "incident_status": item.incident_status,
        "severity": f"SEV{item.severity}",
    }


def postmortem_view(result: cases.PostmortemResult, now: datetime, *, markdown: bool = False) -> View:
    stored = result.stored
    view: View = {
        "incident": f"INC-{stored.number}",
        "status": stored.status,
        "revision": stored.revision,
        "updated_at": iso(stored.updated_at),
        "updated_by": stored.updated_by,
        "published_at": iso(stored.published_at) if stored.published_at else None,
        "published_by": stored.published_by,
        "override_why": stored.override_why,
        "document": result.document.to_dict(),
        "followups": [followup_view(item, now) for item in result.followups],
        "findings": [finding_view(f) for f in result.findings],
    }
    # who wrote, acted and owns, as people read them; the document keeps the recorded actors
    shown = [stored.updated_by, stored.published_by, *(e.by for e in result.document.timeline)]
    view["actor_names"] = names = result.names.labels([*shown, *(f.owner for f in result.followups)])
    if markdown:
        view["markdown"] = to_markdown(
            result.document, followups=result.followups, status=stored.status, publication=view, names=names
        )
    return view


# --- postmortems ----------------------------------------------------------------------------


def postmortem_draft(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    return postmortem_view(cases.draft_postmortem(ctx, ref, actor), ctx.clock.now())


def postmortem_edit(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    """``body`` holds the sections to replace (see ``domain.postmortem.EDITABLE``)."""
    changes = body.get("sections", body)
    if not isinstance(changes, Mapping):
        raise ValidationError("sections", "must be an object of postmortem sections")
    return postmortem_view(cases.edit_postmortem(ctx, ref, actor, dict(changes)), ctx.clock.now())


def postmortem_show(ctx: Context, ref: str | int, query: Mapping[str, Any] | None = None) -> View:
    fmt = str((query or {}).get("format") or "json")
    if fmt not in ("json", "md"):
        raise ValidationError("format", f"{fmt!r} is not one of json, md")
    return postmortem_view(cases.get_postmortem(ctx, ref), ctx.clock.now(), markdown=fmt == "md")


def postmortem_lint(ctx: Context, ref: str | int) -> View:
    result = cases.get_postmortem(ctx, ref)
    return {
        "incident": f"INC-{result.stored.number}",
        "ok": not result.findings,
        "findings": [finding_view(f) for f in result.findings],
    }


def _factor_text(line: str) -> str:
    kind, sep, text = line.partition(":")
    return text.strip() if sep and kind.strip().lower() in FACTOR_TYPES else line


def lint_section(body: Mapping[str, Any]) -> View:
    """The blameless lint of one section as it is being typed (nothing is stored).

    ``section`` names it; ``text`` holds it as the editor has it: one item a line for list
    sections, ``TYPE: text`` lines for contributing factors (the type is not linted).
    Findings are located like the stored postmortem's (``went_well[1] 1:7``)."""
    section = _str(body, "section")
    text = _str(body, "text")
    if section not in EDITABLE:
        raise ValidationError("section", f"{section[:40]!r} is not a section people write")
    if len(text) > LINT_LIMIT:
        raise ValidationError("text", f"has {len(text):,} characters; at most {LINT_LIMIT:,} are checked")
    value: str | list[str] = text
    if section not in TEXT_SECTIONS:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        value = [_factor_text(line) for line in lines] if section == "contributing_factors" else lines
    findings = lint_document({section: value})
    return {"section": section, "ok": not findings, "findings": [finding_view(f) for f in findings]}


def postmortem_amend(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    """Reopen a published postmortem for amendment, with the reason (``why``)."""
    return postmortem_view(cases.amend_postmortem(ctx, ref, actor, _str(body, "why")), ctx.clock.now())


def postmortem_publish(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    result = cases.publish_postmortem(
        ctx, ref, actor, override=_bool(body, "override"), why=_str(body, "why") or None
    )
    return postmortem_view(result, ctx.clock.now())


# --- follow-ups -----------------------------------------------------------------------------


def followup_add(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    now = ctx.clock.now()
    item = cases.add_followup(
        ctx,
        ref,
        actor,
        title=_str(body, "title"),
        owner=_str(body, "owner"),
        due=parse_due(body.get("due"), now),
        kind=_str(body, "kind"),
    )
    return followup_view(item, now, parse_ref(ref))


def followup_done(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    item = cases.complete_followup(ctx, ref, actor, _str(body, "followup"))
    return followup_view(item, ctx.clock.now(), parse_ref(ref))


def followup_wontdo(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    item = cases.decline_followup(ctx, ref, actor, _str(body, "followup"), _str(body, "why") or None)
    return followup_view(item, ctx.clock.now(), parse_ref(ref))


def _team_owners(ctx: Context, name: str) -> tuple[str, ...] | None:
    """A team's follow-ups: those owned by the team itself or by one of its members."""
    if not name:
        return None
    team = ctx.catalog.team(name)
    if team is None:
        raise ValidationError("team", f"{name[:60]!r} is not a team of the service catalog")
    return (team.name, *team.members)


def followup_list(ctx: Context, query: Mapping[str, Any]) -> list[View]:
    """Across incidents, open and overdue first; ``status`` open (default), done, wontdo or
    all; ``owner``, ``team`` (the catalog team or its members own it), ``incident``, ``overdue``."""
    status = str(query.get("status") or "open")
    if status not in ("open", "done", "wontdo", "all"):
        raise ValidationError("status", f"{status!r} is not one of open, done, wontdo, all")
    incident = query.get("incident")
    now = ctx.clock.now()
    filters = FollowupFilter(
        status=None if status == "all" else status,
        owner=_str(query, "owner").strip() or None,
        owners=_team_owners(ctx, _str(query, "team").strip()),
        incident=parse_ref(incident) if incident not in (None, "") else None,
        due_before=now if _bool(query, "overdue") else None,
        limit=_limit(query.get("limit")),
    )
    return [_listed(item, now) for item in cases.list_followups(ctx, filters)]


# --- review, readiness, import -----------------------------------------------------------------


def report(ctx: Context, query: Mapping[str, Any]) -> View:
    now = ctx.clock.now()
    since = parse_bound(query.get("since"), "since", now)
    until = parse_bound(query.get("until"), "until", now)
    if since and until and until <= since:
        raise ValidationError("until", "must be after since")
    service = _str(query, "service").strip() or None
    severity = _severity(query.get("severity"))
    found = cases.review(ctx, since=since, until=until, service=service, severity=severity)
    view = found.to_dict()
    window = view.get("window") or {}
    oncall = None
    if window.get("start") and window.get("end"):
        from warroom.services.oncall.load import load_report  # the load on people (on call)

        oncall = load_report(ctx, from_iso(window["start"]), from_iso(window["end"]))
    return view | {
        "filters": {"service": service, "severity": f"SEV{severity}" if severity else None},
        "oncall": oncall,
    }


def readiness(ctx: Context, query: Mapping[str, Any]) -> View:
    """Every catalog service's readiness; ``ok`` is false when one scores below ``threshold``."""
    threshold = query.get("threshold", 100)
    if isinstance(threshold, str) and threshold.strip().isdecimal():
        threshold = int(threshold)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 100:
        raise ValidationError("threshold", "must be a score between 0 and 100")
    service = _str(query, "service").strip() or None
    found = [r for r in cases.readiness(ctx) if service is None or r.service == service]
    if service is not None and not found:
        raise ValidationError("service", f"{service!r} is not in the catalog")
    below = [r.service for r in found if r.score < threshold]
    return {
        "threshold": threshold,
        "ok": not below,
        "below": below,
        "services": [r.to_dict() for r in found],
    }


def import_history(
    ctx: Context,
    actor: str,
    body: Mapping[str, Any],
    progress: Callable[[str, int, int], None] | None = None,
) -> View:
    """Parse ``body["content"]`` (``format`` json, csv or pagerduty) and store it, all or
    nothing. ``progress(phase, done, total)`` hears about the storing."""
    fmt = _str(body, "format", "json") or "json"
    if fmt not in FORMATS:
        raise ValidationError("format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    items = parse_history(_str(body, "content"), fmt, now=ctx.clock.now())
    done = 0

    def step(count: int) -> None:
        nonlocal done
        done += count
        if progress is not None:
            progress("storing", done, len(items))

    result = cases.import_history(ctx, items, step)
    return {"format": fmt, "read": result.read, "imported": result.imported, "skipped": result.skipped}


# --- the CLI's embedded backend -------------------------------------------------------------

Handler = Callable[[Context, str, "str | None", dict[str, Any]], Any]


def _ref(ref: str | None) -> str:
    if ref is None:
        raise ValidationError("incident", "this operation needs an incident id such as INC-7")
    return ref


# Operation name (``cli.backend.OPERATIONS``) -> handler(ctx, actor, ref, body).
EMBEDDED: dict[str, Handler] = {
    "postmortem_draft": lambda ctx, actor, ref, body: postmortem_draft(ctx, actor, _ref(ref), body),
    "postmortem_edit": lambda ctx, actor, ref, body: postmortem_edit(ctx, actor, _ref(ref), body),
    "postmortem_show": lambda ctx, actor, ref, body: postmortem_show(ctx, _ref(ref), body),
    "postmortem_lint": lambda ctx, actor, ref, body: postmortem_lint(ctx, _ref(ref)),
    "postmortem_amend": lambda ctx, actor, ref, body: postmortem_amend(ctx, actor, _ref(ref), body),
    "postmortem_publish": lambda ctx, actor, ref, body: postmortem_publish(ctx, actor, _ref(ref), body),
    "followup_add": lambda ctx, actor, ref, body: followup_add(ctx, actor, _ref(ref), body),
    "followup_done": lambda ctx, actor, ref, body: followup_done(ctx, actor, _ref(ref), body),
    "followup_wontdo": lambda ctx, actor, ref, body: followup_wontdo(ctx, actor, _ref(ref), body),
    "followup_list": lambda ctx, actor, ref, body: followup_list(ctx, body),
    "report": lambda ctx, actor, ref, body: report(ctx, body),
    "readiness": lambda ctx, actor, ref, body: readiness(ctx, body),
    "import": lambda ctx, actor, ref, body: import_history(ctx, actor, body, body.pop("progress", None)),
}
