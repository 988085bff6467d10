"""Human output for the CLI: Rich tables and panels drawn from the JSON views."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from warroom.domain.incidents.state import MILESTONES
from warroom.services.incidents.describe import describe

console = Console(highlight=False, soft_wrap=False, markup=False)  # what people wrote, shown as written

SEV_STYLE = {"SEV1": "bold white on red", "SEV2": "bold red", "SEV3": "yellow", "SEV4": "dim"}


def _t(value: str | None) -> str:
    """ISO time to ``2026-11-26 10:04:05Z`` (seconds are enough for people)."""
    if not value:
        return "-"
    return value.replace("T", " ")[:19] + "Z"


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    from datetime import timedelta

    from warroom.domain.shared.timefmt import human_duration

    return human_duration(timedelta(seconds=seconds))


def _sev(sev: str) -> Text:
    return Text(f" {sev} ", style=SEV_STYLE.get(sev, ""))


def declared(view: dict[str, Any]) -> None:
    console.print(Text.assemble("Declared ", (view["id"], "bold"), "  ", _sev(view["severity"])))
    console.print(view["severity_explanation"])


def incident_list(rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print("No incidents. Declare one with: warroom declare --title ...")
        return
    table = Table(box=None, header_style="bold")
    for col in ("ID", "SEV", "STATUS", "TITLE", "SERVICES", "COMMANDER", "DECLARED"):
        table.add_column(col)
    for row in rows:
        table.add_row(
            row["id"],
            _sev(row["severity"]),
            row["status"],
            row["title"],
            ", ".join(row["services"]),
            row.get("commander") or "-",
            _t(row["declared_at"]),
        )
    console.print(table)


def severity(view: dict[str, Any]) -> None:
    console.print(Text.assemble((view["id"], "bold"), "  ", _sev(view["severity"])))
    console.print(view["severity_explanation"])
    for nudge in view.get("nudges", []):
        if nudge["code"] == "measured_severity_differs":
            console.print(f"! {nudge['message']}")


def _roles_table(view: dict[str, Any]) -> Table:
    table = Table(title="Roles", box=None, header_style="bold", title_justify="left")
    for col in ("ROLE", "HOLDER", "SINCE", "HISTORY"):
        table.add_column(col)
    names = view.get("actor_names")
    history: dict[str, list[str]] = {}
    for term in view.get("role_history", []):
        history.setdefault(term["role"], []).append(who(term["person"], names=names))
    for role in ("commander", "comms", "scribe", "ops", "sme", "liaison"):
        term = view["roles"].get(role)
        if term is None and role not in ("commander", "comms", "scribe"):
            continue
        table.add_row(
            role,
            who(term["person"], names=names) if term else Text("empty", style="red"),
            _t(term["since"]) if term else "-",
            " -> ".join(history.get(role, [])),
        )
    return table


def roles(view: dict[str, Any]) -> None:
    console.print(_roles_table(view))


# The room shows the latest entries of long lists; --json and the timeline have them all.
LATEST = 15


def _latest(entries: list[dict[str, Any]], what: str) -> tuple[list[dict[str, Any]], str | None]:
    if len(entries) <= LATEST:
        return entries, None
    hidden = len(entries) - LATEST
    return entries[-LATEST:], f"... {hidden} earlier {what} (--json lists all)"


def _ledger_tables(view: dict[str, Any]) -> Table:
    grid = Table.grid(padding=(0, 4))
    facts = Table(title="Confirmed facts", box=None, title_justify="left", header_style="bold")
    facts.add_column("REF")
    facts.add_column("FACT")
    facts.add_column("SOURCE")
    shown, more = _latest(view["facts"], "facts")
    for entry in shown:
        facts.add_row(entry["ref"], entry["text"], entry.get("source") or "-")
    if more:
        facts.add_row("", Text(more, style="dim"), "")
    guesses = Table(title="Open guesses", box=None, title_justify="left", header_style="bold")
    guesses.add_column("REF")
    guesses.add_column("GUESS")
    shown, more = _latest(view["open_guesses"], "open guesses")
    for entry in shown:
        guesses.add_row(entry["ref"], entry["text"])
    if more:
        guesses.add_row("", Text(more, style="dim"))
    grid.add_row(facts, guesses)
    return grid


def ledger(view: dict[str, Any]) -> None:
    console.print(_ledger_tables(view))


def decisions(view: dict[str, Any]) -> None:
    table = Table(title="Decisions", box=None, title_justify="left", header_style="bold")
    for col in ("REF", "WHEN", "WHO", "DECISION", "WHY", "REVERSIBLE"):
        table.add_column(col)
    shown, more = _latest(view["decisions"], "decisions")
    for d in shown:
        table.add_row(
            d["ref"],
            _t(d["at"]),
            who(d["by"], names=view.get("actor_names")),
            d["text"],
            d["why"],
            "yes" if d["reversible"] else "NO",
        )
    console.print(table)
    if more:
        console.print(Text(more, style="dim"))


def mitigations(view: dict[str, Any]) -> None:
    table = Table(title="Mitigations", box=None, title_justify="left", header_style="bold")
    for col in ("REF", "STATE", "KIND", "RISK", "TITLE", "APPLIED"):
        table.add_column(col)
    shown, more = _latest(view["mitigations"], "mitigations")
    for m in shown:
        risk = m["risk"] + (" !" if m.get("risk_flag") else "")
        table.add_row(m["ref"], m["state"], m["kind"], risk, m["title"], _t(m.get("applied_at")))
    console.print(table)
    if more:
        console.print(Text(more, style="dim"))
    for m in shown:
        if m.get("risk_flag"):
            console.print(f"! {m['ref']}: {m['risk_flag']}")


def prepared(plans: list[dict[str, Any]]) -> None:
    if not plans:
        console.print("No prepared mitigations in the playbooks of these services.")
        return
    table = Table(title="Prepared mitigations (lowest risk first)", box=None, title_justify="left")
    for col in ("#", "KIND", "RISK", "MIN", "AUTHORITY", "TITLE"):
        table.add_column(col)
    for plan in plans:
        table.add_row(
            str(plan["index"]),
            plan["kind"],
            plan["risk"],
            f"{plan['expected_minutes']:g}",
            plan.get("authority") or "-",
            plan["title"],
        )
    console.print(table)
    console.print("Propose one with: warroom mitigate propose ID --prepared N")


def status(view: dict[str, Any]) -> None:
    console.print(Text.assemble((view["id"], "bold"), f" is {view['status']}"))


def updates(view: dict[str, Any]) -> None:
    last = view["updates"][-1]
    console.print(f"Posted {last['ref']} ({last['audience']}) at {_t(last['at'])}:")
    console.print(last["text"])
    console.print(f"Next update due: {_t(view.get('next_update_due'))}")
    for warning in view.get("notify", {}).get("warnings", []):
        console.print(f"warning: {warning}", style="yellow", markup=False, highlight=False)


def ok(view: dict[str, Any]) -> None:
    console.print(f"Recorded on {view['id']} (event #{view['version']}).")


def change_added(view: dict[str, Any]) -> None:
    verb = "Recorded" if view.get("created", True) else "Already recorded"
    console.print(f"{verb} {view['kind']} on {view['service']} at {_t(view['at'])}: {view['summary']}")


def _changes_table(changes: list[dict[str, Any]], names: Mapping[str, str] | None = None) -> Table:
    table = Table(box=None, header_style="bold")
    for col in ("AT", "SERVICE", "KIND", "SUMMARY", "BY"):
        table.add_column(col)
    for change in changes:
        table.add_row(
            _t(change["at"]),
            change["service"],
            change["kind"],
            change["summary"],
            who(change["actor"], names=names),
        )
    return table


def changes(view: dict[str, Any]) -> None:
    window = view["window"]
    console.print(
        f"Changes on {', '.join(view['services'])} from {_t(window['start'])} to {_t(window['end'])}:"
    )
    if not view["changes"]:
        console.print("none recorded")
    else:
        console.print(_changes_table(view["changes"], view.get("actor_names")))


def timeline(events: list[dict[str, Any]]) -> None:
    table = Table(box=None, header_style="bold")
    for col in ("#", "OCCURRED", "ACTOR", "EVENT", "DETAIL"):
        table.add_column(col)
    for e in events:
        table.add_row(
            str(e["seq"]),
            _t(e["occurred_at"]),
            e.get("actor_name") or who(e["actor"], e.get("via")),
            e["kind"],
            e.get("description") or describe(e),
        )
    console.print(table)


def who(actor: str | None, via: str | None = None, names: Mapping[str, str] | None = None) -> str:
    """The actor as the server labelled it (``names``, from a view's ``actor_names``:
    ``Alice Ng (alice)``); without a label, the person then the service that acted for them:
    ``alice (via deploy-bot)``. An actor is recorded as one string (``alice via
    deploy-bot``, for a service token its owner holds); a view may already have split it."""
    recorded = f"{actor} via {via}" if actor and via else actor
    if recorded and names and recorded in names:
        return names[recorded]
    person, sep, through = (actor or "").partition(" via ")
    if via is None and sep and person and through:
        return f"{person} (via {through})"
    return f"{actor} (via {via})" if via else (actor or "-")


def room(view: dict[str, Any]) -> None:
    header = Text.assemble(
        (view["id"], "bold"),
        "  ",
        _sev(view["severity"]),
        "  ",
        (view["status"].upper(), "bold"),
        f"  {view['kind']}  ",
        ", ".join(view["services"]),
    )
    chain = view.get("chain") or {"intact": True}
    if not chain["intact"]:
        console.print(Text(f"TIMELINE TAMPERED: {chain['message']}", style="bold red"))
    body = Text()
    body.append(view["title"] + "\n", style="bold")
    body.append(view["severity_explanation"] + "\n")
    for label in ("scope", "symptom", "trigger"):
        if view.get(label):
            body.append(f"{label}: {view[label]}\n")
    console.print(Panel(body, title=header, title_align="left"))
    ms = Table(title="Milestones", box=None, title_justify="left", header_style="bold")
    ms.add_column("MILESTONE")
    ms.add_column("AT")
    ms.add_column("BY / EVIDENCE")
    for name in MILESTONES:
        found = view["milestones"].get(name)
        if found:
            ms.add_row(
                name.removesuffix("_at"),
                _t(found["at"]),
                f"{who(found['by'], names=view.get('actor_names'))}: {found['evidence']}",
            )
    console.print(ms)
    gaps = "  ".join(
        f"{k.removeprefix('time_to_')} {_dur(v)}" for k, v in view["intervals"].items() if v is not None
    )
    if gaps:
        console.print(f"time to: {gaps}")
    console.print(_roles_table(view))
    console.print(_ledger_tables(view))
    if view["decisions"]:
        decisions(view)
    if view["mitigations"]:
        mitigations(view)
    if view.get("changes"):
        console.print(Text("Recent changes near impact start", style="bold"))
        console.print(_changes_table(view["changes"][:5], view.get("actor_names")))
    if view["updates"]:
        last = view["updates"][-1]
        console.print(
            Text(f"Last update {last['ref']} ({last['audience']}) at {_t(last['at'])}", style="bold")
        )
        console.print(last["text"])
    due = view.get("next_update_due")
    if due:
        flag = Text(" OVERDUE", style="bold red") if view.get("update_overdue") else Text("")
        console.print(Text.assemble(f"Next update due {_t(due)}", flag))
    for nudge in view["nudges"]:
        console.print(Text(f"! {nudge['message']}", style="yellow"))


def verified(result: dict[str, Any]) -> None:
    if result["ok"]:
        console.print(f"ok: {result['incidents_checked']} incident chain(s) verified")
    else:
        for broken in result.get("breaks") or [result["broken"]]:
            console.print(Text(f"BROKEN: {broken['message']}", style="bold red"))
        console.print(
            f"{len(result.get('breaks') or [1])} of {result['incidents_checked']} incident chain(s) broken"
        )


def initialized(result: dict[str, Any]) -> None:
    for path in result["written"]:
        console.print(f"wrote {path}")
    for path in result["kept"]:
        console.print(f"kept {path} (exists; --force overwrites)")
    console.print(f"database at {result['database']} (migrated to {result['revision']})")


def now_utc() -> datetime:
    return datetime.now(UTC)
