"""``warroom triage`` and ``warroom mitigate check``: the impact probe from the terminal.

Both print what the probe measured in a few lines and exit 1 when Prometheus could not
be read (the one line says why); everything else in warroom keeps working regardless.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from warroom.cli.session import emit, run

IdArg = Annotated[str, typer.Argument(metavar="ID", help="Incident id, e.g. INC-7.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
BLIND = ("unavailable",)


def register(app: typer.Typer) -> None:
    """``warroom triage``; ``main`` adds :func:`mitigate_check` to its ``mitigate`` group."""
    app.command("triage")(triage)


def triage(
    incident: IdArg,
    last: Annotated[
        bool, typer.Option("--last", help="Show the last recorded measurement; do not ask Prometheus.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Measure impact now: each indicator against its last healthy baseline, the trend, the
    blast radius by dimension, customer and financial impact, and the severity they give."""
    view = run("triage_show" if last else "triage", incident)
    emit(view, as_json, with_xray)
    if view.get("status") in BLIND and not last:  # --last shows a record; it did not fail
        raise typer.Exit(1)


def mitigate_check(
    incident: IdArg,
    mitigation: Annotated[
        str | None,
        typer.Argument(metavar="[MITIGATION]", help="e.g. M1; default: every applied, unjudged one."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-check applied mitigations against the metrics now and record each outcome
    (effective, ineffective, worse, inconclusive) with the before and after numbers."""
    view = run("mitigation_check", incident, {"mitigation": mitigation})
    emit(view, as_json, checks)
    if view.get("status") in BLIND:
        raise typer.Exit(1)


# --- human output -------------------------------------------------------------------------


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.3g}%"


def with_xray(view: dict[str, Any]) -> None:
    """The measurement, then the X-ray's one line when it found traces or its source is
    down (an incident without traces adds nothing here; ``warroom xray`` says so)."""
    measurement(view)
    found = view.get("xray")
    if found and found["status"] != "no_traces":
        from warroom.cli.render import console

        console.print(f"X-ray: {found['verdict']}", style="yellow" if found["status"] != "ok" else "")


def measurement(view: dict[str, Any]) -> None:
    from rich.text import Text

    from warroom.cli.render import console

    status = view.get("status")
    if status in ("unavailable", "not_configured", "never", "nothing", "no_data"):
        console.print(Text(view["summary"], style="yellow" if status != "unavailable" else "bold red"))
        good = view.get("last_good")
        if good:
            console.print(f"last good measurement {good['measured_at']}: {good['summary']}")
        return
    head = Text.assemble(
        (view["incident"], "bold"),
        f" impact measured at {view['measured_at'][:19]}Z",
        f" (from {view['impact_start_from'].removesuffix('_at')} {view['impact_start'][11:19]}Z)",
    )
    console.print(head)
    for service in view["services"]:
        console.print(Text(service["service"], style="bold"))
        if service.get("error"):
            console.print(Text(f"  blind: {service['error']}", style="red"))
        for ind in service["indicators"]:
            _indicator(ind)
    estimate = f"customer impact {_pct(view.get('customer_share'))}"
    if view.get("financial_per_hour") is not None:
        estimate += f", loss {view['financial_per_hour']:,.0f}/h"
    console.print(estimate + (f" -> {view['explanation']}" if view.get("explanation") else ""))
    left, detected = view.get("left_slo_at"), view.get("impact_start")
    if left and view.get("impact_start_from") != "impact_started_at" and detected and left < detected:
        console.print(f"the worst slice left its SLO at {left[11:19]}Z, before {detected[11:19]}Z")
    for change in view.get("changes", []):
        console.print(
            Text(
                f"changed {change['at'][11:19]}Z {change['service']} {change['kind']}: {change['summary']}",
                style="cyan",
            )
        )
    for skipped in view.get("unmeasured", []):
        console.print(Text(f"not measured: {skipped['service']}: {skipped['why']}", style="dim"))
    if view.get("status") == "partial":
        console.print(Text(f"partly blind: {view['error']}", style="yellow"))
    if view.get("suggestion"):
        console.print(Text(f"! {view['suggestion']}", style="yellow"))


def _indicator(ind: dict[str, Any]) -> None:
    from rich.text import Text

    from warroom.cli.render import console

    style = "red" if ind.get("breaching") else ("yellow" if ind.get("deviating") else "")
    console.print(Text(f"  {ind['line']}", style=style))
    if ind.get("status") != "measured":
        return
    base = ind["baseline"]
    if base["source"] != "none":
        console.print(
            Text(
                f"    baseline {base['source'].replace('_', ' ')} {base['window_start'][11:19]}-"
                f"{base['window_end'][11:19]}Z; trend {ind['trend']['direction']} ({ind['trend']['reason']})",
                style="dim",
            )
        )
    if not ind.get("deviating"):
        return
    # Deviating slices are on the first line; a dimension without any says "everywhere".
    for radius in ind.get("blast_radius", []):
        if not radius["deviating"]:
            console.print(Text(f"    {radius['dimension']}: {radius['sentence']}", style="dim"))


def checks(view: dict[str, Any]) -> None:
    from rich.text import Text

    from warroom.cli.render import console

    if not view.get("checks"):
        console.print(Text(view["summary"], style="bold red" if view.get("status") in BLIND else "yellow"))
        return
    styles = {"effective": "green", "ineffective": "yellow", "worse": "bold red", "inconclusive": "dim"}
    for check in view["checks"]:
        console.print(
            Text.assemble(
                (f"{check['mitigation']} {check['verdict']}", styles.get(check["verdict"], "")),
                f": {check['note']}",
            )
        )
