"""Human output of the learning commands: Rich tables drawn from the JSON views."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import yaml
from rich.console import Console
from rich.markdown import Markdown
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from warroom.domain.learning.postmortem import EDITABLE, FACTOR_TYPES
from warroom.domain.shared.timefmt import human_duration

console = Console(highlight=False, soft_wrap=False, markup=False)  # what people wrote, shown as written
DURATIONS = (
    ("time_to_detect", "detect"),
    ("time_to_declare", "declare"),
    ("time_to_acknowledge", "ack"),
    ("time_to_mitigate", "mitigate"),
    ("time_to_resolve", "resolve"),
)


def _dur(seconds: float | None) -> str:
    return "-" if seconds is None else human_duration(timedelta(seconds=seconds))


def _short(seconds: float | None) -> str:
    """``45s``, ``12m``, ``1h05m``, ``2d3h``: narrow enough for five pairs in 80 columns."""
    if seconds is None:
        return "-"
    total = round(seconds)
    if total >= 600:  # from ten minutes on, seconds are noise
        total = round(total / 60) * 60
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s" if secs else f"{minutes}m"
    return f"{secs}s"


def _day(value: str | None) -> str:
    return value[:10] if value else "-"


def _table(*columns: str, title: str | None = None) -> Table:
    table = Table(box=None, header_style="bold", title=title, title_justify="left", title_style="bold")
    for column in columns:
        table.add_column(column)
    return table


# --- postmortems ----------------------------------------------------------------------


def markdown(text: str) -> None:
    console.print(Markdown(text))


def lint_findings(view: dict[str, Any]) -> None:
    findings = view["findings"]
    if not findings:
        console.print(f"{view['incident']}: no blameless-lint findings")
        return
    table = _table("WHERE", "RULE", "TEXT", "REWRITE", title=f"{len(findings)} blameless-lint finding(s)")
    for f in findings:
        table.add_row(f["location"], f["rule"], f["text"], f["suggestion"])
    console.print(table)


def postmortem_saved(view: dict[str, Any]) -> None:
    doc = view["document"]
    console.print(
        Text.assemble(
            ("Postmortem ", ""),
            (view["incident"], "bold"),
            f"  {view['status']} (revision {view['revision']}), {len(doc['timeline'])} timeline entries",
        )
    )
    missing = [name for name in ("trigger", "contributing_factors", "root_cause_chain") if not doc[name]]
    if missing:
        console.print(f"still to write: {', '.join(missing)}  (warroom postmortem edit {view['incident']})")
    for prompt in doc.get("prompts", []):
        console.print(f"? {prompt}")
    if view["findings"]:
        lint_findings(view)


def postmortem_published(view: dict[str, Any]) -> None:
    text = f"Published the postmortem of {view['incident']} ({view['published_at']}, {view['published_by']})"
    console.print(text)
    if view.get("override_why"):
        console.print(
            f"over {len(view['findings'])} lint finding(s); recorded reason: {view['override_why']}"
        )


def editor_text(view: dict[str, Any]) -> str:
    """The sections people write as YAML, with the facts they cannot change as comments."""
    doc = view["document"]
    lines = [
        f"# Postmortem {view['incident']}: {doc['title']}",
        "# Edit the sections below; save and quit to store them (lint runs on every save).",
        f"# contributing_factors: each 'TYPE: text', TYPE one of {', '.join(FACTOR_TYPES)}.",
        "# root_cause_chain: ordered, the first cause first.",
        "# Facts (from the timeline, not editable here):",
    ]
    lines += [f"#   {name.replace('_', ' ')}: {_dur(value)}" for name, value in doc["durations"].items()]
    lines += [f"#   ? {prompt}" for prompt in doc.get("prompts", [])]
    sections = {name: doc[name] for name in EDITABLE}
    sections["contributing_factors"] = [f"{f['type']}: {f['text']}" for f in doc["contributing_factors"]]
    body = yaml.safe_dump(sections, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(lines) + "\n" + body


# --- follow-ups -----------------------------------------------------------------------


def followup(view: dict[str, Any]) -> None:
    state = view["status"] + (f" ({view['why']})" if view.get("why") else "")
    console.print(
        Text.assemble(
            (f"{view.get('incident', '')} {view['ref']}", "bold"),
            f"  {view['title']}  [{view['kind']}]  owner {view['owner']}, due {_day(view['due'])}: {state}",
        )
    )


def followup_list(rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print("No follow-ups.")
        return
    table = _table("INCIDENT", "REF", "DUE", "", "OWNER", "KIND", "STATUS", "TITLE")
    for row in rows:
        late = (
            Text(f"overdue {_dur(row['overdue_seconds'])}", style="bold red") if row["overdue"] else Text("")
        )
        table.add_row(
            row["incident"],
            row["ref"],
            _day(row["due"]),
            late,
            row["owner"],
            row["kind"],
            row["status"],
            row["title"],
        )
    console.print(table)


# --- the review -----------------------------------------------------------------------


def _figures_table(title: str, groups: list[dict[str, Any]]) -> Table:
    table = _table("", "N", *(label.upper() for _, label in DURATIONS), title=title)
    for group in groups:
        cells = [
            f"{_short(group[name]['median_seconds'])}/{_short(group[name]['p90_seconds'])}"
            for name, _ in DURATIONS
        ]
        table.add_row(group["key"], str(group["incidents"]), *cells)
    return table


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _period(period: dict[str, Any]) -> str:
    return (
        f"{period['incidents']} ({_rate(period['incidents_per_30_days'])}/30d), "
        f"mitigate {_short(period['time_to_mitigate']['median_seconds'])}"
    )


def _fixes_table(services: list[dict[str, Any]]) -> Table:
    table = _table("SERVICE", "PER 30D", "BEFORE", "AFTER", title="Did the fixes change reliability?")
    for group in services:
        fixes = group["fixes"]
        if fixes["status"] == "done":
            before, after = _period(fixes["before"]), _period(fixes["after"])
            before = f"{before} until {_day(fixes['fixes_done_at'])}"
        else:
            before, after = fixes["note"], "-"
        table.add_row(group["key"], _rate(group["incidents_per_30_days"]), before, after)
    return table


def report(view: dict[str, Any]) -> None:
    window = view["window"]
    console.print(
        Text.assemble(
            ("Reliability review", "bold"),
            f"  {view['incidents']} incidents, {_day(window['start'])} to {_day(window['end'])}",
            "  (time to X as median/p90; never means)",
        )
    )
    _oncall(view.get("oncall"))
    if not view["incidents"]:
        console.print("No incidents in this window. Import history with: warroom import FILE")
        return
    console.print(_figures_table("Overall", [view["overall"]]))
    console.print(_figures_table("By severity", view["by_severity"]))
    console.print(_figures_table("By service", view["by_service"]))
    console.print(_fixes_table(view["by_service"]))
    console.print(_figures_table("By month", view["by_month"]))
    factors = view["recurring_factors"]
    if factors:
        table = _table("FACTOR", "INCIDENTS", title="Contributing factors that recur")
        for item in factors:
            table.add_row(item["key"], str(item["incidents"]))
        console.print(table)
    else:
        console.print("No contributing-factor type recurs (yet).")


def _seconds(value: float | None) -> str:
    return "-" if value is None else human_duration(timedelta(seconds=value))


def _oncall(load: dict[str, Any] | None) -> None:
    """The load on people: time to acknowledge by team and person, pages per person."""
    if not load or not load["pages"]:
        return
    ack = load["time_to_acknowledge"]
    console.print(
        f"On call: {load['pages']} pages, {load['acknowledged']} acknowledged "
        f"(median {_seconds(ack['median_seconds'])}, p90 {_seconds(ack['p90_seconds'])}), "
        f"{load['out_of_hours']} notifications out of hours ({load['hours']})"
    )
    for key, rows in (("team", load["by_team"]), ("person", load["by_person"])):
        table = _table(key.upper(), "PAGES", "MEDIAN", "P90", title=f"Time to acknowledge by {key}")
        for row in rows:
            table.add_row(
                row[key], str(row["pages"]), _seconds(row["median_seconds"]), _seconds(row["p90_seconds"])
            )
        console.print(table)
    table = _table("PERSON", "PAGES", "PER WEEK", "BUSIEST WEEK", "OUT OF HOURS", title="Pages per person")
    for row in load["people"]:
        table.add_row(
            row["person"],
            str(row["pages"]),
            f"{row['per_week']:g}",
            str(row["busiest_week"]),
            str(row["out_of_hours"]),
        )
    console.print(table)


def readiness(view: dict[str, Any]) -> None:
    services = view["services"]
    if not services:
        console.print("No services in the catalog (catalog.yaml).")
        return
    table = _table(
        "SERVICE", "SCORE", "READY", "GAPS", title=f"Playbook readiness (threshold {view['threshold']})"
    )
    for item in services:
        low = item["score"] < view["threshold"]
        table.add_row(
            item["service"],
            Text(str(item["score"]), style="bold red" if low else "green"),
            "yes" if item["ready"] else "no",
            "\n".join(item["gaps"]) or "-",
        )
    console.print(table)
    if view["below"]:
        console.print(f"below {view['threshold']}: {', '.join(view['below'])}")


# --- import ---------------------------------------------------------------------------


def imported(view: dict[str, Any]) -> None:
    console.print(
        f"Imported {view['imported']} of {view['read']} incidents ({view['format']}); "
        f"{view['skipped']} were already there. See: warroom report"
    )


@contextmanager
def import_progress(name: str) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar for ``learning_ops.import_history``'s ``progress(phase, done, total)``."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True, markup=False),
        transient=False,
    )
    task = progress.add_task(f"checking {name}", total=None)

    def update(phase: str, done: int, total: int) -> None:
        progress.update(task, description=f"{phase} {name}", completed=done, total=total)

    with progress:
        yield update
