"""The root command group: how the command line itself speaks to a person or a script.

- Usage errors (a missing option, ``--limit abc``) print one ``error:`` line like every
  other refusal, instead of click's usage block; with ``--json`` on the line, every error
  is a problem document on stderr instead (``session.fail``).
- Help and the generated reference name value types in words users know: ``TEXT``,
  ``INTEGER``, ``NUMBER``, a choice list ``[a|b|c]``, or the metavar a command gives
  (``TIME``, ``DURATION``); never Typer's ``<str>`` / ``<list[str]>``. Arguments show
  their name only (``ID``, ``TEXT``), without braces.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from warroom.cli import session

# The click in use (typer may vendor its own), found through a class typer exports.
_UsageError: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")

# Typer's type labels (without the angle brackets) in the words of click's own help.
WORDS = {
    "str": "TEXT",
    "list[str]": "TEXT",
    "int": "INTEGER",
    "list[int]": "INTEGER",
    "int range": "INTEGER",
    "float": "NUMBER",
    "float range": "NUMBER",
    "Path": "PATH",
    "bool": "BOOLEAN",
    "datetime": "TIME",
}


def choices(*values: str) -> str:
    """The metavar of an option that takes one of ``values``: ``[open|closed|all]``."""
    return "[" + "|".join(values) + "]"


SEVERITY = choices("SEV1", "SEV2", "SEV3", "SEV4", "P1", "P2", "P3", "P4", "P5")
SEVERITY_HELP = "SEV1 is the worst; P1..P5 read as in webhooks (P5 is SEV4)."


class _Option(TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        if self.metavar is not None:
            return self.metavar
        label = self.display_type(ctx).removeprefix("<").removesuffix(">")
        if "|" in label:
            return choices(*label.removeprefix("list[").removesuffix("]").split("|"))
        return WORDS.get(label, label.upper())


class _Argument(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:
        return None  # its name (ID, TEXT, SEVn) says what it takes

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        if not self.required and not name.startswith("["):
            name = f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")


def relabel(command: Any) -> None:
    """Give every parameter under ``command`` the wording above (once, when the tree is built)."""
    for param in getattr(command, "params", ()):
        if type(param) is TyperOption:
            param.__class__ = _Option
        elif type(param) is TyperArgument:
            param.__class__ = _Argument
    for sub in getattr(command, "commands", {}).values():
        relabel(sub)


class RootGroup(TyperGroup):
    """``warroom`` itself: relabels the tree it is built with and words every usage error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        relabel(self)

    def make_context(self, info_name: str | None, args: list[str], *rest: Any, **kwargs: Any) -> Any:
        session.STATE.json_errors = session.wants_json(list(args))
        try:
            return super().make_context(info_name, args, *rest, **kwargs)
        except _UsageError as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _UsageError as exc:
            raise _one_line(exc) from None


class _UsageLine(_UsageError):  # type: ignore[misc, valid-type]
    def show(self, file: Any = None) -> None:
        if session.STATE.json_errors:
            param = getattr(self, "param", None)
            field = getattr(param, "name", None)
            session.fail(self.format_message(), self.exit_code, status=400, kind="usage", field=field)
        else:
            typer.echo(f"error: {self.format_message()}", err=True)


def _one_line(exc: Any) -> Any:
    if isinstance(exc, _UsageLine) or type(exc).__name__ == "NoArgsIsHelpError":
        return exc  # "warroom role" alone shows the help, as asked
    where = f" (see: {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
    line = _UsageLine(exc.format_message().rstrip(".") + where, exc.ctx)
    line.param = getattr(exc, "param", None)
    return line
