"""``warroom xray INC-7``: where the incident's requests fail, across services and teams.

Prints the verdict, the failing paths with their owners, and the call graph now vs the
baseline (rate, error ratio, p99, retries, timeouts, calls per request). ``--pin N`` records
finding N (0: the verdict) as a fact with its evidence link. Exits 1 when the trace source
could not be read (the one ``degraded:`` line says why).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from warroom.cli.session import emit, run

IdArg = Annotated[str, typer.Argument(metavar="ID", help="Incident id, e.g. INC-7.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def register(app: typer.Typer) -> None:
    app.command("xray")(xray)


def xray(
    incident: IdArg,
    pin: Annotated[
        int | None,
        typer.Option(
            "--pin", min=0, max=999, help="Record finding N (0 = the verdict) as a fact with its evidence."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """X-ray the incident's traces: the call graph now vs the baseline window, the hop where
    failed requests' errors originate and who owns it, retries vs timeouts, amplification."""
    if pin is not None:
        emit(run("xray_pin", incident, {"finding": pin}), as_json, pinned)
        return
    view = run("xray", incident)
    emit(view, as_json, report)
    if view.get("status") == "degraded":
        raise typer.Exit(1)


def pinned(view: dict[str, Any]) -> None:
    from warroom.cli.render import console

    console.print(f"{view['incident']} {view['fact']}: {view['text']}")
    console.print(f"evidence: {view['source']}", style="dim")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _stats(stats: dict[str, Any] | None, key: str, pct: bool = False) -> str:
    if stats is None:
        return "-"
    value = stats[key]
    return _pct(value) if pct else f"{value:g}"


def report(view: dict[str, Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    from warroom.cli.render import console

    style = {"ok": "bold", "no_traces": "yellow", "degraded": "bold red"}.get(view["status"], "")
    console.print(Text.assemble((view["incident"], "bold"), " ", (view["verdict"], style)))
    window = view["window"]
    console.print(
        f"window {window['start'][:19]}Z → {window['end'][:19]}Z, source {view['source']}", style="dim"
    )
    if view["status"] != "ok":
        return
    for origin in view["origins"][:5]:
        owners = ", ".join(f"{s}: {t}" for s, t in origin["owners"].items()) or "no owner in the catalog"
        console.print(
            f"  {origin['share'] * 100:.0f}%  {' → '.join(origin['path'])}  "
            f"{origin['kind']} ({origin['typical_ms']:.0f} ms)  [{owners}]"
        )
    table = Table("caller → callee", "operation", "rate/s", "errors", "base", "p99 ms", "base", "retries",
                  "timeouts", "calls/req", "base", title="call graph, now vs baseline")  # fmt: skip
    for edge in view["edges"][:20]:
        now, base = edge["now"], edge["baseline"]
        table.add_row(
            f"{edge['caller']} → {edge['callee']}",
            edge["operation"],
            _stats(now, "rate_per_s"),
            _stats(now, "error_ratio", True),
            _stats(base, "error_ratio", True),
            _stats(now, "p99_ms"),
            _stats(base, "p99_ms"),
            _stats(now, "retries"),
            _stats(now, "timeouts"),
            _stats(now, "calls_per_request"),
            _stats(base, "calls_per_request"),
        )
    console.print(table)
    for index, finding in enumerate(view["findings"]):
        console.print(f"  [{index}] {finding}", style="dim")
