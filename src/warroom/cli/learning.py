"""``warroom postmortem``, ``followup``, ``report``, ``readiness`` and ``import``.

Each command is one operation on the backend (embedded or ``--url``), so ``--json``
prints the same document in both modes. Imports stay inside the commands: this module
is loaded for ``warroom --help`` and must cost nothing.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from warroom.cli import session
from warroom.cli.group import SEVERITY

postmortem_app = typer.Typer(
    help="Draft, edit, lint and publish blameless postmortems.", no_args_is_help=True
)
followup_app = typer.Typer(help="Follow-ups: owners and due dates, tracked until done.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
IdArg = Annotated[str, typer.Argument(metavar="ID", help="Incident id, e.g. INC-7.")]
FollowupArg = Annotated[str, typer.Argument(metavar="FOLLOWUP", help="Follow-up id, e.g. A2.")]
FormatOpt = Annotated[str, typer.Option("--format", help="text (rendered), md (Markdown) or json.")]


def _run(op: str, ref: str | None = None, body: dict[str, Any] | None = None) -> Any:
    return session.run(op, ref, body)


def _emit(value: Any, as_json: bool, render: str) -> None:
    def human(view: Any) -> None:
        from warroom.cli import learning_render

        getattr(learning_render, render)(view)

    session.emit(value, as_json, human)


# --- postmortems -----------------------------------------------------------------------


@postmortem_app.command("draft")
def postmortem_draft(incident: IdArg, as_json: JsonOpt = False) -> None:
    """Build the draft from the timeline (again: what people wrote is kept)."""
    _emit(_run("postmortem_draft", incident), as_json, "postmortem_saved")


MAX_SECTIONS_FILE = 4 * 1024 * 1024
MAX_HISTORY_FILE = 256 * 1024 * 1024


def _read_bounded(stream: Any, path: Path, limit: int) -> str:
    """The UTF-8 text of ``stream`` (or the file at ``path``), refusing more than ``limit``
    bytes (``/dev/zero`` or a runaway pipe would otherwise fill the memory)."""
    if stream is not None:
        text: str = stream.read(limit + 1)
        if len(text) > limit:
            raise ValueError(f"more than {limit // (1024 * 1024)} MB; nothing was read")
        return text
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"more than {limit // (1024 * 1024)} MB; nothing was read")
    return data.decode("utf-8")


def _read_sections(path: str) -> dict[str, Any]:
    """A YAML or JSON file ('-' for stdin) of sections; a ``show --json`` document works too."""
    import sys

    import yaml

    try:
        text = _read_bounded(sys.stdin if path == "-" else None, Path(path), MAX_SECTIONS_FILE)
    except OSError as exc:
        raise session.fail(f"cannot read {path}: {exc.strerror}", 2) from None
    except ValueError as exc:
        raise session.fail(f"{path}: {exc}", 2) from None
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise session.fail(f"{path} is not valid YAML or JSON: {str(exc).splitlines()[0]}", 2) from None
    except RecursionError:
        raise session.fail(f"{path} nests too deeply to be postmortem sections", 2) from None
    if isinstance(data, dict) and isinstance(data.get("document"), dict):
        data = data["document"]
    if not isinstance(data, dict):
        raise session.fail(f"{path} must hold a mapping of postmortem sections", 2)
    return _sections(data)


def _sections(data: dict[str, Any]) -> dict[str, Any]:
    from warroom.domain.learning.postmortem import GENERATED

    return {key: value for key, value in data.items() if key not in GENERATED}


def _edit_in_editor(incident: str) -> dict[str, Any]:
    """Open $VISUAL / $EDITOR on the sections people write, as YAML; returns the result."""
    import yaml

    from warroom.cli.learning_render import editor_text

    current = _run("postmortem_draft", incident)  # refreshes the facts, keeps what people wrote
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"postmortem-{incident}.yaml"
        original = editor_text(current)
        path.write_text(original, encoding="utf-8")
        try:
            code = subprocess.call([*editor.split(), str(path)])
        except OSError as exc:
            raise session.fail(f"cannot start the editor {editor!r}: {exc.strerror}", 2) from None
        if code != 0:
            raise session.fail(f"the editor exited with {code}; nothing was saved")
        edited = path.read_text(encoding="utf-8")
    if edited == original:
        typer.echo("No changes; nothing was saved.")
        raise typer.Exit(0)
    try:
        data = yaml.safe_load(edited) or {}
    except yaml.YAMLError as exc:
        raise session.fail(f"not valid YAML: {str(exc).splitlines()[0]}; nothing was saved") from None
    except RecursionError:
        raise session.fail("the edited text nests too deeply; nothing was saved") from None
    if not isinstance(data, dict):
        raise session.fail("the edited text must be a mapping of sections; nothing was saved")
    return _sections(data)


@postmortem_app.command("edit")
def postmortem_edit(
    incident: IdArg,
    file: Annotated[
        str | None,
        typer.Option("--file", "-f", help="YAML or JSON file of sections ('-' for stdin); default: $EDITOR."),
    ] = None,
    fmt: FormatOpt = "text",
    as_json: JsonOpt = False,
) -> None:
    """Write the human sections (trigger, contributing factors, root-cause chain, ...); every
    save is linted and the findings are shown."""
    sections = _read_sections(file) if file else _edit_in_editor(incident)
    view = _run("postmortem_edit", incident, sections)
    if fmt == "md" and not as_json:
        typer.echo(_run("postmortem_show", incident, {"format": "md"})["markdown"], nl=False)
        return
    _emit(view, as_json or fmt == "json", "postmortem_saved")


@postmortem_app.command("show")
def postmortem_show(incident: IdArg, fmt: FormatOpt = "text", as_json: JsonOpt = False) -> None:
    """The postmortem: rendered in the terminal, as Markdown (--format md) or JSON."""
    if fmt not in ("text", "md", "json"):
        raise session.fail(f"--format {fmt!r} is not one of text, md, json", 2)
    view = _run("postmortem_show", incident, {"format": "json" if as_json or fmt == "json" else "md"})
    if as_json or fmt == "json":
        session.emit(view, True, print)
    elif fmt == "md":
        typer.echo(view["markdown"], nl=False)
    else:
        from warroom.cli.learning_render import markdown

        markdown(view["markdown"])


@postmortem_app.command("lint")
def postmortem_lint(incident: IdArg, as_json: JsonOpt = False) -> None:
    """Blameless-language check of the sections people wrote; exit 1 with findings."""
    view = _run("postmortem_lint", incident)
    _emit(view, as_json, "lint_findings")
    if not view["ok"]:
        raise typer.Exit(1)


@postmortem_app.command("publish")
def postmortem_publish(
    incident: IdArg,
    override: Annotated[
        bool, typer.Option("--override", help="Publish despite blameless-lint findings (needs --why).")
    ] = False,
    why: Annotated[str | None, typer.Option(help="Why the findings stay; recorded on the timeline.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Publish: refused while lint finds blame, counterfactuals or hindsight, unless
    --override --why ... (recorded)."""
    if not override:
        linted = _run("postmortem_lint", incident)
        if not linted["ok"]:
            _emit(linted, as_json, "lint_findings")
            raise session.fail(
                f"not published: {len(linted['findings'])} finding(s); rewrite them, or "
                "publish with --override --why ..."
            )
    body = {"override": override, "why": why}
    _emit(_run("postmortem_publish", incident, body), as_json, "postmortem_published")


@postmortem_app.command("amend")
def postmortem_amend(
    incident: IdArg,
    why: Annotated[str, typer.Option(help="Why it changes (new facts, a correction); recorded.")],
    as_json: JsonOpt = False,
) -> None:
    """Reopen a published postmortem for amendment: edit it, then publish it again."""
    _emit(_run("postmortem_amend", incident, {"why": why}), as_json, "postmortem")


# --- follow-ups ------------------------------------------------------------------------


@followup_app.command("add")
def followup_add(
    incident: IdArg,
    title: Annotated[str, typer.Option(help="The action, e.g. 'Add a canary stage to payments deploys'.")],
    owner: Annotated[str, typer.Option(help="Who owns it (required).")],
    due: Annotated[
        str,
        typer.Option(
            metavar="TIME",
            help="Due: 2026-12-01 (end of that day, UTC), 14d or 2w from now; within ten years.",
        ),
    ],
    kind: Annotated[str, typer.Option(metavar="[prevent|detect|mitigate|process]", help="What it does.")],
    as_json: JsonOpt = False,
) -> None:
    """Add a follow-up with its owner and due date."""
    body = {"title": title, "owner": owner, "due": due, "kind": kind}
    _emit(_run("followup_add", incident, body), as_json, "followup")


@followup_app.command("list")
def followup_list(
    status: Annotated[str, typer.Option(metavar="[open|done|wontdo|all]", help="Which follow-ups.")] = "open",
    owner: Annotated[str | None, typer.Option(help="Only this owner's.")] = None,
    incident: Annotated[str | None, typer.Option(help="Only this incident's.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue ones.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 500,
    as_json: JsonOpt = False,
) -> None:
    """Follow-ups across incidents, overdue first."""
    query = {"status": status, "owner": owner, "incident": incident, "overdue": overdue, "limit": limit}
    _emit(_run("followup_list", None, query), as_json, "followup_list")


@followup_app.command("done")
def followup_done(incident: IdArg, followup: FollowupArg, as_json: JsonOpt = False) -> None:
    """Mark a follow-up done (also after the incident closed)."""
    _emit(_run("followup_done", incident, {"followup": followup}), as_json, "followup")


@followup_app.command("wontdo")
def followup_wontdo(
    incident: IdArg,
    followup: FollowupArg,
    why: Annotated[str, typer.Option(help="Why it will not be done (required).")],
    as_json: JsonOpt = False,
) -> None:
    """Decide a follow-up will not be done, saying why."""
    _emit(_run("followup_wontdo", incident, {"followup": followup, "why": why}), as_json, "followup")


# --- review, readiness, import -----------------------------------------------------------


def report(
    since: Annotated[
        str | None, typer.Option(metavar="TIME", help="From this time (2026-01-01, 30d ago), inclusive.")
    ] = None,
    until: Annotated[str | None, typer.Option(metavar="TIME", help="Up to this time, exclusive.")] = None,
    service: Annotated[str | None, typer.Option(help="Only incidents affecting this service.")] = None,
    severity: Annotated[
        str | None, typer.Option(metavar=SEVERITY, help="Only this severity (SEV1..SEV4 or P1..P5).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Reliability review: time to detect, declare, acknowledge, mitigate and resolve as
    median and p90 per service, severity and month; fixes before and after; recurring factors."""
    query = {"since": since, "until": until, "service": service, "severity": severity}
    view = None if session.STATE.url else _fast_report(query)
    _emit(view if view is not None else _run("report", None, query), as_json, "report")


def _fast_report(query: dict[str, Any]) -> dict[str, Any] | None:
    """On SQLite, when every warroom incident's review record is current, the same review
    without loading SQLAlchemy (``warroom report`` over 50,000 incidents has a 2 s budget);
    None: take the full path (another database, records to rebuild, or an error to print)."""
    from warroom.cli.fast import report as review

    return review(session.settings(), query)


def readiness(
    threshold: Annotated[
        int | None, typer.Option(help="Lowest acceptable score, 0-100 (default: readiness.threshold, 100).")
    ] = None,
    service: Annotated[str | None, typer.Option(help="Only this service.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Is each service's playbook ready? A score per service and the gaps; exit 1 when a
    service scores below the threshold (for CI)."""
    if threshold is None:
        threshold = _configured_threshold()
    view = _run("readiness", None, {"threshold": threshold, "service": service})
    _emit(view, as_json, "readiness")
    if not view["ok"]:
        raise typer.Exit(1)


def _configured_threshold() -> int:
    if session.STATE.url:
        return 100
    from warroom.settings import SettingsError

    try:
        return int(session.settings().number("readiness", "threshold", 100))
    except SettingsError as exc:
        raise session.fail(str(exc), 2) from None


def import_(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The history file.")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", metavar="[json|csv|pagerduty]", help="Default: from the file's name and header."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import incident history (JSON, CSV, or PagerDuty's incident CSV export) so reports
    are useful from day one. A malformed file imports nothing and names the line."""
    from warroom.domain.learning.history_import import guess_format

    try:
        content = _read_bounded(None, file, MAX_HISTORY_FILE)
    except OSError as exc:
        raise session.fail(f"cannot read {file}: {exc.strerror}", 2) from None
    except UnicodeDecodeError as exc:
        line = file.read_bytes()[: exc.start].count(b"\n") + 1
        raise session.fail(f"{file}: line {line}: not UTF-8 text") from None
    except ValueError as exc:
        raise session.fail(f"{file}: {exc}", 2) from None
    chosen = fmt or guess_format(file.name, content[:4096])
    body: dict[str, Any] = {"format": chosen, "content": content}
    if as_json or session.STATE.url:
        result = _run("import", None, body)
    else:
        from warroom.cli.learning_render import import_progress

        with import_progress(file.name) as progress:
            result = _run("import", None, body | {"progress": progress})
    _emit(result, as_json, "imported")


def register(app: typer.Typer) -> None:
    app.add_typer(postmortem_app, name="postmortem")
    app.add_typer(followup_app, name="followup")
    app.command("report")(report)
    app.command("readiness")(readiness)
    app.command("import")(import_)
