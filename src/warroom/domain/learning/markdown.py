"""A postmortem as Markdown: the document people read, review and paste elsewhere.

Sections in the order a reader needs them: summary, impact, key times, timeline, then
trigger, contributing factors, root-cause chain, what went well, hard decisions, late
signals, tooling failures, follow-ups. Empty human sections say so ("_not written yet_")
rather than disappear, so a reviewer sees what is missing. Text people typed is escaped
where Markdown would read it as markup (a leading ``#``, ``|`` in tables).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from warroom.domain.incidents.state import Followup
from warroom.domain.learning.postmortem import DURATIONS, KEY_TIMES, Postmortem, human_duration_seconds

NOT_WRITTEN = "_not written yet_"
_NUMBERED = re.compile(r"^(\d+)[.)](?:\s|$)")
HUMAN_TITLES = (
    ("went_well", "What went well"),
    ("hard_decisions", "Decisions that were hard"),
    ("late_signals", "Signals that were late"),
    ("tooling_failures", "Tooling that failed"),
)


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _line(text: str) -> str:
    """One paragraph of typed text, safe from being read as a heading, list or quote."""
    text = " ".join(text.split())
    numbered = _NUMBERED.match(text)
    if numbered:
        return f"{numbered.group(1)}\\{text[len(numbered.group(1)) :]}"
    return "\\" + text if text[:1] in "#>-+*=|" else text


def _dur(seconds: float | None) -> str:
    return "-" if seconds is None else human_duration_seconds(seconds)


def _impact(doc: Postmortem) -> list[str]:
    i = doc.impact
    share = "unknown" if i.customer_share is None else f"{i.customer_share * 100:.3g}% of users or requests"
    journey = f"; critical journey down: {i.critical_journey}" if i.critical_journey else ""
    money = "not estimated"
    if i.financial_per_hour is not None:
        money = f"{i.financial_per_hour:,.0f} per hour"
        if i.financial_estimate is not None:
            money += f" (about {i.financial_estimate:,.0f} over the impact)"
    data = i.data_integrity.replace("_", " ")
    if i.data_integrity != "none":
        data += "; data verified before resolve" if i.data_verified else "; data not verified"
    lines = [
        f"- **Duration:** {_dur(i.duration_seconds)} ({_when(i.started_at)} to {_when(i.ended_at)})",
        f"- **Scope:** {_line(i.scope) or '-'}; services: {', '.join(i.services) or '-'}",
        f"- **Customer:** {share}{journey}",
        f"- **Financial:** {money}",
        f"- **Data integrity:** {data}",
        f"- **Security:** {i.security}",
    ]
    if i.measured:
        summary = i.measured.get("summary") or ", ".join(
            f"{key} {value}"
            for key, value in sorted(i.measured.items())
            if isinstance(value, str | int | float)
        )
        lines.append(f"- **Measured:** {_line(str(summary))}")
    if doc.impact_notes:
        lines += ["", _line(doc.impact_notes)]
    return lines


def _times(doc: Postmortem) -> list[str]:
    lines = ["| milestone | time (UTC) |", "|---|---|"]
    lines += [f"| {name.replace('_', ' ')} | {_when(doc.key_times.get(name))} |" for name in KEY_TIMES]
    lines += ["", "| duration | value |", "|---|---|"]
    lines += [f"| {name.replace('_', ' ')} | {_dur(doc.durations.get(name))} |" for name in DURATIONS]
    lines += ["", "_Time to mitigate and to resolve count from the impact start (detection when unknown)._"]
    return lines


def _list(items: Sequence[str], *, ordered: bool = False) -> list[str]:
    if not items:
        return [NOT_WRITTEN]
    return [
        f"{index}. {_line(item)}" if ordered else f"- {_line(item)}" for index, item in enumerate(items, 1)
    ]


def _followups(items: Sequence[Followup], names: Mapping[str, str]) -> list[str]:
    if not items:
        return ["_none recorded_"]
    lines = ["| ref | action | kind | owner | due | status |", "|---|---|---|---|---|---|"]
    for item in items:
        status = item.status if item.status == "open" else f"{item.status} {_when(item.closed_at)}"
        if item.why:
            status += f" ({item.why})"
        lines.append(
            f"| {item.ref} | {_cell(item.title)} | {item.kind} | {_cell(names.get(item.owner, item.owner))} | "
            f"{item.due.astimezone(UTC).date().isoformat()} | {_cell(status)} |"
        )
    return lines


def to_markdown(
    doc: Postmortem,
    *,
    followups: Sequence[Followup] = (),
    status: str = "draft",
    publication: dict[str, Any] | None = None,
    names: Mapping[str, str] | None = None,
) -> str:
    """The whole postmortem; ``publication`` (published_at, published_by, override_why)
    is shown under the title when it was published. ``names`` labels recorded actors
    (``alice`` -> ``Alice Ng (alice)``); an actor it does not know is shown as recorded."""
    names = names or {}
    out = [f"# Postmortem {doc.ref}: {_line(doc.title)}", ""]
    out.append(
        f"**{doc.severity}** · {doc.kind.replace('_', ' ')} · {status} · drafted {_when(doc.drafted_at)}"
    )
    if publication and publication.get("published_at"):
        by = publication.get("published_by") or ""
        out[-1] += f" · published {publication['published_at']} by {names.get(by, by)}"
        if publication.get("override_why"):
            out += ["", f"> Published over blameless-lint findings: {_line(publication['override_why'])}"]
    out += ["", "## Summary", "", _line(doc.summary) or NOT_WRITTEN, "", "## Impact", "", *_impact(doc)]
    out += ["", "## Key times", "", *_times(doc), "", "## Timeline", ""]
    if doc.timeline:
        out += ["| time (UTC) | what happened | who |", "|---|---|---|"]
        out += [f"| {_when(e.at)} | {_cell(e.text)} | {_cell(names.get(e.by, e.by))} |" for e in doc.timeline]
    else:
        out.append("_no events_")
    out += ["", "## Trigger", "", _line(doc.trigger) or NOT_WRITTEN, "", "## Contributing factors", ""]
    if doc.contributing_factors:
        out += [f"- **{factor.type}:** {_line(factor.text)}" for factor in doc.contributing_factors]
    else:
        out.append(NOT_WRITTEN)
    out += ["", "## Root-cause chain", "", *_list(doc.root_cause_chain, ordered=True)]
    for name, title in HUMAN_TITLES:
        out += ["", f"## {title}", "", *_list(getattr(doc, name))]
    out += ["", "## Follow-ups", "", *_followups(followups, names)]
    if doc.prompts and status != "published":
        out += ["", "## Questions the timeline raises", ""]
        out += [f"- {_line(prompt)}" for prompt in doc.prompts]
    return "\n".join(out) + "\n"
