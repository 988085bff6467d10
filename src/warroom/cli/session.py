"""One CLI invocation: where commands go (embedded or ``--url``) and how they answer.

Every command module (``main`` and the ones it registers: learning, comms, signals,
triage, ...) calls :func:`run`, :func:`emit` and :func:`fail` from here; none of them
imports ``main``, which only builds the command tree. So the modules form no import
circle (``tests/cli/test_layout.py`` holds them to it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import typer

from warroom.cli.backend import Backend
from warroom.domain.shared.text import json_safe, visible, visible_all


class State:
    """What the root options said (``main``'s callback sets it) and what was opened."""

    url: str | None = None
    token: str | None = None
    actor: str | None = None
    backend: Backend | None = None
    closers: list[Callable[[], None]] = []
    json_errors: bool = False
    """``--json`` was on the command line: errors go to stderr as problem documents."""


STATE = State()


def start(url: str | None, token: str | None, actor: str | None) -> None:
    if url and not token:  # the personal token `warroom login --url` saved for this server
        from warroom.cli.credentials import token_for

        token = token_for(url)
    STATE.url, STATE.token, STATE.actor = url, token, actor
    STATE.backend = None


def release() -> None:
    """Close the local database's connections when the command ends (the process may
    live on: a test runner, the demo, an embedding program)."""
    while STATE.closers:
        STATE.closers.pop()()
    STATE.backend = None


def wants_json(args: list[str]) -> bool:
    """Whether ``--json`` is among the options of a command line (not after ``--``)."""
    return "--json" in (args[: args.index("--")] if "--" in args else args)


def fail(
    message: str,
    code: int = 1,
    *,
    status: int | None = None,
    kind: str | None = None,
    field: str | None = None,
) -> typer.Exit:
    """Print a refusal and return the exit to raise: one ``error:`` line, or with ``--json``
    a problem document (the API's fields). Exit 1 is a refused request (status 400 unless
    told), exit 2 a setup that cannot serve it: configuration, database, server, file (503)."""
    if STATE.json_errors:
        from warroom.services.shared.problems import problem_body

        status = status or (400 if code == 1 else 503)
        kind = kind or ("refused" if code == 1 else "unavailable")
        return problem(problem_body(status, message, kind=kind, field=field), code)
    typer.echo(f"error: {visible(message)}", err=True)
    return typer.Exit(code)


def refuse(exc: Exception, code: int = 1) -> typer.Exit:
    """:func:`fail` for a refusal of the domain: with ``--json`` the very problem the API
    answers for it (or, with ``--url``, the one the server sent)."""
    from warroom.domain.shared.errors import DomainError

    if STATE.json_errors:
        sent = getattr(exc, "problem", None)
        if isinstance(sent, dict) and sent:
            return problem(sent, code)
        if isinstance(exc, DomainError):
            from warroom.services.shared.problems import domain_problem_body

            return problem(domain_problem_body(exc), code)
    return fail(exc.message if isinstance(exc, DomainError) else str(exc).splitlines()[0], code)


def problem(body: dict[str, Any], code: int) -> typer.Exit:
    """Print ``body`` on stderr as one line of JSON; the exit code stays the plain one's."""
    typer.echo(json_safe(json.dumps(body, sort_keys=True, ensure_ascii=False)), err=True)
    return typer.Exit(code)


def settings() -> Any:
    from warroom.settings import SettingsError, load_settings

    try:
        return load_settings()
    except SettingsError as exc:
        raise fail(str(exc), 2) from None


def amount(text: str, unit: float, field: str) -> float:
    """A ``DURATION`` option's value in its unit (``unit`` seconds): a bare number is already
    in it (``--days 14``), a duration is converted (``--days 2w``, ``--expected-minutes 90s``)
    by the one grammar (``timefmt.parse_duration``). Ranges are the use case's to check."""
    from warroom.domain.shared.errors import ValidationError
    from warroom.domain.shared.timefmt import parse_duration

    raw = text.strip()
    try:
        return (
            float(raw)
            if raw and not any(ch.isalpha() for ch in raw)
            else parse_duration(raw, field).total_seconds() / unit
        )
    except ValueError:
        raise fail(
            f"{field}: {text!r} is not a number or a duration such as 90s, 30m, 2h, 14d",
            field=field,
            status=422,
            kind="validation",
        ) from None
    except ValidationError as exc:
        raise refuse(exc) from None


def backend() -> Backend:
    if STATE.backend is not None:
        return STATE.backend
    if STATE.url:
        from warroom.cli.remote import RemoteBackend

        if not STATE.token:
            raise fail("--url needs a token (--token or WARROOM_TOKEN)")
        STATE.backend = RemoteBackend(STATE.url, STATE.token)
    else:
        from warroom.cli.backend import EmbeddedBackend

        local = settings()
        actor = STATE.actor or local.actor

        def build() -> Any:
            from warroom.bootstrap import build as build_app

            built = build_app(local)
            engine = getattr(built.context.uow, "args", (None,))[0]
            if engine is not None:
                STATE.closers.append(engine.dispose)
            return built.context

        STATE.backend = EmbeddedBackend(build, actor)
    return STATE.backend


def run(op: str, ref: str | None = None, body: dict[str, Any] | None = None) -> Any:
    """Call the backend, turning every refusal into one line and a non-zero exit."""
    from warroom.domain.shared.errors import DomainError

    try:
        return backend().call(op, ref, body or {})
    except DomainError as exc:
        raise refuse(exc) from None
    except typer.Exit:
        raise
    except Exception as exc:  # a config, catalog or connection problem: one line, no trace
        name = type(exc).__name__
        if name in (
            "CatalogError",
            "SettingsError",
            "RemoteError",
            "OperationalError",
            "DatabaseUnreachable",
            "SchemaTooNew",
        ):
            raise refuse(exc, 2) from None
        raise


def emit(value: Any, as_json: bool, human: Callable[[Any], None]) -> None:
    """Print ``value`` as JSON or through ``human``; control characters in it (a title, an
    actor, an alert's summary) are written out, never sent raw to the terminal."""
    if as_json:
        typer.echo(json_safe(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)))
    else:
        human(visible_all(value))


def render(name: str) -> Callable[[Any], None]:
    """``cli.render.<name>``, imported when called (Rich loads only to print)."""

    def call(value: Any) -> None:
        from warroom.cli import render as renderers

        getattr(renderers, name)(value)

    return call
