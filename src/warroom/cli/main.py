"""The ``warroom`` command: every verb a responder needs, each with ``--json``.

Commands translate arguments into an operation and render its view; they hold no rules
and no SQL. Errors print one line on stderr and exit non-zero, having written nothing.
Heavy modules (SQLAlchemy, the services) load inside commands, so ``--help`` stays fast.
This module builds the command tree and registers the sub-command modules beside it
(serve, tokens, learning, signals, comms, triage); what they share with it (``run``,
``emit``, ``fail``, the invocation's state) lives in ``cli.session``, so none imports it.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer

from warroom.cli import (
    comms,
    learning,
    login,
    oncall,
    oncall_setup,
    serve,
    session,
    signals,
    status_subscribers,
    statuspage,
    tokens,
    triage,
    users,
    xray,
)
from warroom.cli.group import SEVERITY, SEVERITY_HELP, RootGroup, choices
from warroom.cli.session import STATE, emit, fail, run
from warroom.cli.session import render as _render

app = typer.Typer(
    cls=RootGroup,
    name="warroom",
    help="Incident response from the first alarm to the last follow-up.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
role_app = typer.Typer(help="Assign and hand off incident roles.", no_args_is_help=True)
change_app = typer.Typer(help="Record deploys, config and flag changes.", no_args_is_help=True)
mitigate_app = typer.Typer(
    help="Propose, approve, apply, judge and revert mitigations.", no_args_is_help=True
)
app.add_typer(role_app, name="role")
app.add_typer(change_app, name="change")
app.add_typer(mitigate_app, name="mitigate")


JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
IdArg = Annotated[str, typer.Argument(metavar="ID", help="Incident id, e.g. INC-7.")]


def _version(value: bool) -> None:
    if value:
        from warroom import __version__

        typer.echo(f"warroom {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    url: Annotated[
        str | None, typer.Option("--url", envvar="WARROOM_URL", help="Talk to a warroom server at this URL.")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="WARROOM_TOKEN", help="API token for --url.", show_default=False),
    ] = None,
    actor: Annotated[
        str | None, typer.Option("--as", envvar="WARROOM_ACTOR", help="Who you are (embedded mode).")
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", "-V", is_eager=True, callback=_version, help="Print the version and exit."),
    ] = False,
) -> None:
    session.start(url, token, actor)
    ctx.call_on_close(session.release)


# --- incidents -----------------------------------------------------------------------


@app.command()
def declare(
    title: Annotated[str, typer.Option(help="One line: what is broken, for whom.")],
    kind: Annotated[
        str,
        typer.Option(metavar="[availability|latency|data_integrity|security]", help="What kind of incident."),
    ] = "availability",
    service: Annotated[list[str], typer.Option("--service", "-s", help="Affected service (repeat).")] = [],  # noqa: B006
    scope: Annotated[str, typer.Option(help="Who and what is affected (regions, routes, tenants).")] = "",
    symptom: Annotated[str, typer.Option(help="The first observed symptoms.")] = "",
    trigger: Annotated[str, typer.Option(help="What set it off, if known.")] = "",
    customer_impact: Annotated[
        str | None, typer.Option(help="Share of users or requests: 12% or 0.12.")
    ] = None,
    critical_journey: Annotated[str | None, typer.Option(help="A critical journey that is down.")] = None,
    financial_per_hour: Annotated[str | None, typer.Option(help="Estimated loss per hour.")] = None,
    data_integrity: Annotated[
        str, typer.Option(metavar="[none|at_risk|corrupted|lost]", help="Data integrity impact.")
    ] = "none",
    security: Annotated[
        str, typer.Option(metavar="[none|suspected|confirmed]", help="Security impact.")
    ] = "none",
    severity: Annotated[
        str | None, typer.Option(metavar=SEVERITY, help="Override the policy's severity (needs --why).")
    ] = None,
    why: Annotated[str | None, typer.Option(help="Why the severity differs from the policy.")] = None,
    detected_at: Annotated[
        str | None,
        typer.Option(metavar="TIME", help="When it was detected, e.g. '10 minutes ago' (default now)."),
    ] = None,
    impact_started_at: Annotated[
        str | None,
        typer.Option(metavar="TIME", help="When impact started, if known, e.g. 14:05Z or 25m ago."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Declare an incident with the template; prints its id and severity with the reason."""
    body = {
        "title": title,
        "kind": kind,
        "services": service,
        "scope": scope,
        "symptom": symptom,
        "trigger": trigger,
        "customer_impact": customer_impact,
        "critical_journey": critical_journey,
        "financial_per_hour": financial_per_hour,
        "data_integrity": data_integrity,
        "security": security,
        "severity": severity,
        "why": why,
        "detected_at": detected_at,
        "impact_started_at": impact_started_at,
    }
    emit(run("declare", None, body), as_json, _render("declared"))


@app.command("list")
def list_(
    status: Annotated[
        str | None,
        typer.Option(
            metavar=choices("open", "all", "triage", "mitigating", "mitigated", "resolved", "closed"),
            help="open: every status before resolved; all; or one status.",
        ),
    ] = None,
    severity: Annotated[str | None, typer.Option(metavar=SEVERITY, help=SEVERITY_HELP)] = None,
    service: Annotated[str | None, typer.Option(help="Only incidents affecting this service.")] = None,
    open_: Annotated[bool, typer.Option("--open", help="Only open incidents.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 200,
    as_json: JsonOpt = False,
) -> None:
    """List incidents, open ones first."""
    query = {"status": status, "severity": severity, "service": service, "open": open_, "limit": limit}
    fast = _fast_list(query) if not STATE.url else None
    rows = fast if fast is not None else run("list", None, query)
    emit(rows, as_json, _render("incident_list"))


def _fast_list(query: dict[str, Any]) -> list[dict[str, Any]] | None:
    """On SQLite, read the list without loading SQLAlchemy (cold-start budget)."""
    if any(query.get(k) for k in ("status", "severity", "service")):
        return None
    if not 1 <= int(query["limit"]) <= 1000:
        return None  # the regular path refuses it with the reason
    from warroom.cli.fast import incident_list

    return incident_list(session.settings(), open_only=bool(query["open"]), limit=int(query["limit"]))


@app.command()
def show(incident: IdArg, as_json: JsonOpt = False) -> None:
    """The room: severity and why, status, milestones, roles, facts vs guesses, mitigations, nudges."""
    emit(run("show", incident), as_json, _render("room"))


@app.command()
def timeline(
    incident: IdArg,
    after: Annotated[int, typer.Option(help="Only events after this sequence number.")] = 0,
    limit: Annotated[int, typer.Option(help="At most this many events.")] = 1000,
    as_json: JsonOpt = False,
) -> None:
    """The incident's timeline, oldest first."""
    emit(run("timeline", incident, {"after": after, "limit": limit}), as_json, _render("timeline"))


@app.command()
def assess(
    incident: IdArg,
    customer_impact: Annotated[
        str | None, typer.Option(help="Share of users or requests: 12% or 0.12.")
    ] = None,
    critical_journey: Annotated[
        str | None, typer.Option(help="A critical journey that is down ('' = none).")
    ] = None,
    financial_per_hour: Annotated[str | None, typer.Option(help="Estimated loss per hour.")] = None,
    data_integrity: Annotated[
        str | None, typer.Option(metavar="[none|at_risk|corrupted|lost]", help="Data integrity impact.")
    ] = None,
    security: Annotated[
        str | None, typer.Option(metavar="[none|suspected|confirmed]", help="Security impact.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-assess impact dimensions; the severity follows the policy unless overridden."""
    body = {
        "customer_impact": customer_impact,
        "critical_journey": critical_journey,
        "financial_per_hour": financial_per_hour,
        "data_integrity": data_integrity,
        "security": security,
    }
    emit(run("assess", incident, body), as_json, _render("severity"))


@app.command()
def severity(
    incident: IdArg,
    level: Annotated[str, typer.Argument(metavar="SEVERITY", help=SEVERITY_HELP)],
    why: Annotated[str | None, typer.Option(help="Why; required when it differs from the policy.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Override the severity (recorded with the reason)."""
    emit(run("severity", incident, {"severity": level, "why": why}), as_json, _render("severity"))


# --- roles ---------------------------------------------------------------------------

RoleArg = Annotated[str, typer.Argument(metavar="ROLE", help="commander, comms, scribe, ops, sme, liaison.")]
PersonArg = Annotated[str, typer.Argument(metavar="PERSON")]


@role_app.command("assign")
def role_assign(incident: IdArg, role: RoleArg, person: PersonArg, as_json: JsonOpt = False) -> None:
    """Give an empty role to a person (the first commander acknowledges the incident)."""
    emit(run("role_assign", incident, {"role": role, "person": person}), as_json, _render("roles"))


@role_app.command("handoff")
def role_handoff(
    incident: IdArg,
    role: RoleArg,
    person: PersonArg,
    note: Annotated[str, typer.Option(help="What the next holder needs to know.")],
    as_json: JsonOpt = False,
) -> None:
    """Hand a held role to someone else, explicitly, with a note."""
    body = {"role": role, "person": person, "note": note}
    emit(run("role_handoff", incident, body), as_json, _render("roles"))


# --- ledger --------------------------------------------------------------------------

TextArg = Annotated[str, typer.Argument(metavar="TEXT")]


@app.command()
def fact(
    incident: IdArg,
    text: TextArg,
    source: Annotated[str, typer.Option(help="Where it is confirmed: a graph, a log, a person.")],
    as_json: JsonOpt = False,
) -> None:
    """Record a confirmed fact with its source."""
    emit(run("fact", incident, {"text": text, "source": source}), as_json, _render("ledger"))


@app.command()
def guess(incident: IdArg, text: TextArg, as_json: JsonOpt = False) -> None:
    """Record an open guess (hypothesis) to confirm or refute."""
    emit(run("guess", incident, {"text": text}), as_json, _render("ledger"))


@app.command()
def confirm(
    incident: IdArg,
    guess_id: Annotated[str, typer.Argument(metavar="GUESS_ID", help="e.g. G2.")],
    source: Annotated[str | None, typer.Option(help="What confirmed it.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Confirm a guess: it becomes a fact."""
    emit(run("confirm", incident, {"guess": guess_id, "source": source}), as_json, _render("ledger"))


@app.command()
def refute(
    incident: IdArg,
    guess_id: Annotated[str, typer.Argument(metavar="GUESS_ID", help="e.g. G2.")],
    why: Annotated[str, typer.Option(help="What refuted it.")],
    as_json: JsonOpt = False,
) -> None:
    """Refute a guess, saying why."""
    emit(run("refute", incident, {"guess": guess_id, "why": why}), as_json, _render("ledger"))


@app.command()
def decide(
    incident: IdArg,
    text: TextArg,
    why: Annotated[str, typer.Option(help="Why this decision.")],
    alternatives: Annotated[
        list[str], typer.Option("--alternatives", help="An alternative considered (repeat).")
    ] = [],  # noqa: B006
    irreversible: Annotated[bool, typer.Option("--irreversible", help="It cannot be undone.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Record a decision with why, the alternatives and whether it can be undone."""
    body = {"text": text, "why": why, "alternatives": alternatives, "irreversible": irreversible}
    emit(run("decide", incident, body), as_json, _render("decisions"))


@app.command()
def note(
    incident: IdArg,
    text: TextArg,
    pin: Annotated[bool, typer.Option("--pin", help="Keep it in the postmortem timeline.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add a note to the timeline."""
    emit(run("note", incident, {"text": text, "pinned": pin}), as_json, _render("ok"))


# --- changes -------------------------------------------------------------------------


@change_app.command("add")
def change_add(
    service: Annotated[str, typer.Option(help="The service that changed.")],
    kind: Annotated[
        str, typer.Option(metavar="[deploy|config|flag|infra|dependency]", help="What kind of change.")
    ],
    summary: Annotated[str, typer.Option(help="What changed.")],
    at: Annotated[str | None, typer.Option(metavar="TIME", help="When it changed (default now).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a change to a service."""
    body = {"service": service, "kind": kind, "summary": summary, "at": at}
    emit(run("change_add", None, body), as_json, _render("change_added"))


@app.command()
def changes(incident: IdArg, as_json: JsonOpt = False) -> None:
    """Changes on the affected services and their dependencies before impact, newest first."""
    emit(run("changes", incident), as_json, _render("changes"))


# --- mitigations ---------------------------------------------------------------------

MitArg = Annotated[str, typer.Argument(metavar="MITIGATION", help="e.g. M1.")]


@mitigate_app.command("list")
def mitigate_list(incident: IdArg, as_json: JsonOpt = False) -> None:
    """The playbooks' prepared mitigations for this incident, lowest risk first."""
    emit(run("prepared", incident), as_json, _render("prepared"))


@mitigate_app.command("propose")
def mitigate_propose(
    incident: IdArg,
    title: Annotated[str | None, typer.Option(help="What to do (ad hoc).")] = None,
    prepared: Annotated[int | None, typer.Option(help="Number of a prepared mitigation (see list).")] = None,
    kind: Annotated[
        str,
        typer.Option(
            help="rollback, shed_load, fail_closed, disable_path, feature_flag, traffic_shift, dependency_bypass, scale, restart, cache_flush, other."
        ),
    ] = "other",
    risk: Annotated[str, typer.Option(metavar="[low|medium|high]", help="How risky it is.")] = "medium",
    irreversible: Annotated[bool, typer.Option("--irreversible", help="It cannot be undone.")] = False,
    expected_minutes: Annotated[
        str, typer.Option(metavar="DURATION", help="Expected time to effect: minutes, or 90s, 1h.")
    ] = "2",
    changes_: Annotated[str, typer.Option("--changes", help="What it changes.")] = "",
    authority: Annotated[str | None, typer.Option(help="Who must approve it.")] = None,
    verification: Annotated[str | None, typer.Option(help="How to verify (e.g. a PromQL query).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Propose a mitigation: ad hoc (--title ...) or prepared (--prepared N)."""
    body: dict[str, Any] = {
        "title": title or "",
        "prepared": prepared,
        "kind": kind,
        "risk": risk,
        "reversible": not irreversible,
        "expected_minutes": session.amount(expected_minutes, 60, "expected_minutes"),
        "changes": changes_,
        "authority": authority,
        "verification": verification,
    }
    emit(run("propose", incident, body), as_json, _render("mitigations"))


@mitigate_app.command("approve")
def mitigate_approve(incident: IdArg, mitigation: MitArg, as_json: JsonOpt = False) -> None:
    """Approve a proposed mitigation that needs authority."""
    emit(run("approve", incident, {"mitigation": mitigation}), as_json, _render("mitigations"))


@mitigate_app.command("apply")
def mitigate_apply(
    incident: IdArg,
    mitigation: MitArg,
    changes_: Annotated[str | None, typer.Option("--changes", help="What it actually changed.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Apply a mitigation (the first one moves the incident to mitigating)."""
    emit(
        run("apply", incident, {"mitigation": mitigation, "changes": changes_}),
        as_json,
        _render("mitigations"),
    )


@mitigate_app.command("outcome")
def mitigate_outcome(
    incident: IdArg,
    mitigation: MitArg,
    outcome: Annotated[str, typer.Argument(help="effective, ineffective, worse or inconclusive.")],
    note_: Annotated[str | None, typer.Option("--note", help="What the metrics showed.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record how an applied mitigation worked."""
    body = {"mitigation": mitigation, "outcome": outcome, "note": note_}
    emit(run("outcome", incident, body), as_json, _render("mitigations"))


@mitigate_app.command("revert")
def mitigate_revert(
    incident: IdArg,
    mitigation: MitArg,
    why: Annotated[str, typer.Option(help="Why it is reverted.")],
    as_json: JsonOpt = False,
) -> None:
    """Revert an applied mitigation."""
    emit(run("revert", incident, {"mitigation": mitigation, "why": why}), as_json, _render("mitigations"))


@app.command()
def mitigated(
    incident: IdArg,
    evidence: Annotated[str | None, typer.Option(help="What shows user impact is reduced.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Mark user impact reduced (sets mitigated_at)."""
    emit(run("mitigated", incident, {"evidence": evidence}), as_json, _render("status"))


# --- comms and lifecycle -------------------------------------------------------------


@app.command()
def update(
    incident: IdArg,
    text: Annotated[
        str | None, typer.Argument(metavar="[TEXT]", help="The update; default: the prefilled draft.")
    ] = None,
    audience: Annotated[str, typer.Option(metavar="[internal|public]", help="Who reads it.")] = "internal",
    stage: Annotated[
        str | None,
        typer.Option(
            metavar="[investigating|identified|monitoring|resolved]",
            help="A public update's stage (default: from the lifecycle).",
        ),
    ] = None,
    draft: Annotated[bool, typer.Option("--draft", help="Only print the prefilled draft.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Post a status update (prefilled from the incident's state when TEXT is left out)."""
    if draft or text is None:
        template = run("update_template", incident)
        if draft:
            emit(template, as_json, lambda v: typer.echo(v["text"]))
            return
        text = template["text"]
    body = {"text": text, "audience": audience} | ({"stage": stage} if stage else {})
    emit(run("update", incident, body), as_json, _render("updates"))


@app.command()
def resolve(
    incident: IdArg,
    summary: Annotated[str, typer.Option(help="What happened and how it ended.")],
    impact_stopped: Annotated[
        bool, typer.Option("--impact-stopped", help="User impact has stopped.")
    ] = False,
    risk_controlled: Annotated[bool, typer.Option("--risk-controlled", help="Risk is controlled.")] = False,
    data_verified: Annotated[
        bool, typer.Option("--data-verified", help="Data verified (data-integrity).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Resolve although the impact probe sees indicators off baseline.")
    ] = False,
    why: Annotated[str | None, typer.Option(help="Why --force: recorded on the timeline.")] = None,
    final_update: Annotated[
        str | None,
        typer.Option(help="The last public message; needed once the public has had updates."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Resolve: user impact stopped and risk controlled, both stated explicitly; where the
    impact probe reads the services, their indicators must be back at baseline. An incident
    with public updates gets a last public message (--final-update) with it."""
    body = {
        "final_update": final_update,
        "summary": summary,
        "impact_stopped": impact_stopped,
        "risk_controlled": risk_controlled,
        "data_verified": data_verified,
        "force": force,
        "why": why,
    }
    emit(run("resolve", incident, body), as_json, _render("status"))


@app.command()
def reopen(
    incident: IdArg,
    why: Annotated[str, typer.Option(help="Why it is reopened.")],
    as_json: JsonOpt = False,
) -> None:
    """Reopen a resolved incident."""
    emit(run("reopen", incident, {"why": why}), as_json, _render("status"))


@app.command()
def close(incident: IdArg, as_json: JsonOpt = False) -> None:
    """Close a resolved incident once learning is done."""
    emit(run("close", incident), as_json, _render("status"))


@app.command()
def verify(
    incident: Annotated[str | None, typer.Argument(metavar="[ID]", help="One incident; default all.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Recompute every hash chain; exit 1 naming the first broken event."""
    result = run("verify", incident)
    emit(result, as_json, _render("verified"))
    if not result["ok"]:
        raise typer.Exit(1)


@app.command()
def init(
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing example files.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write warroom.toml, an example catalog and playbook, and migrate the database."""
    from warroom.cli.scaffold import scaffold

    try:
        result = scaffold(force=force)
    except FileExistsError as exc:
        raise fail(str(exc)) from None
    emit(result, as_json, _render("initialized"))


@app.command()
def demo(
    live: Annotated[
        bool,
        typer.Option(
            "--live", help="Run demo-shop, Prometheus and Alertmanager on 127.0.0.1 and measure a real fault."
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Play a scripted incident against the local database, printing the room at key steps."""
    if live:
        from warroom.cli.demo import play_live

        if STATE.url:
            raise fail("demo --live runs embedded (it starts its own Prometheus); drop --url")
        play_live(session.settings(), STATE.actor, as_json=as_json, fail=fail)
        return
    from warroom.cli.demo import play

    play(run, as_json=as_json)


# Sub-commands defined beside this module; they never import it (no import circle).
assert oncall_setup  # its commands join oncall's sub-apps when it is imported
for _module in (
    serve,
    tokens,
    users,
    login,
    learning,
    signals,
    comms,
    triage,
    oncall,
    status_subscribers,
    statuspage,
    xray,
):
    _module.register(app)
mitigate_app.command("check")(triage.mitigate_check)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        os._exit(0)
