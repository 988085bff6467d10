"""The command line speaks words users know: ``--version``, and value types in help and in
the generated reference as TEXT, INTEGER, a choice list or TIME, never Typer's ``<str>``."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

import warroom
from warroom.cli.main import app

REPO = Path(__file__).resolve().parents[2]
# What Typer would print for a type (``<str>``, ``<list[str]>``, ``<int range>``) or for a
# required argument in a usage line (``{ID}``).
TYPER_WORDS = re.compile(r"<[a-z_\[\]| ]+>|\{[A-Z]+\}|list\[")


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command and group under ``command``, with its path."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


ROOT = typer.main.get_command(app)
COMMANDS = dict(_commands(ROOT))


def _help(path: tuple[str, ...]) -> str:
    """What ``warroom PATH --help`` prints (click's own help, without a process per command)."""
    command = COMMANDS[path]
    ctx = command.context_class(command, info_name=" ".join(("warroom", *path)), max_content_width=200)
    ctx.terminal_width = 200
    return str(command.get_help(ctx))


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_prints_the_package_version(flag: str) -> None:
    result = CliRunner().invoke(app, [flag])
    assert result.exit_code == 0, result.output
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert result.stdout == f"warroom {warroom.__version__}\n"
    assert warroom.__version__ == project


def test_version_answers_before_anything_else_is_read(tmp_path: Path) -> None:
    """No database, no settings: the version still prints (it is eager)."""
    env = {"WARROOM_CONFIG": str(tmp_path / "missing.toml"), "WARROOM_DATABASE_URL": "garbage"}
    result = CliRunner().invoke(app, ["--version", "list"], env=env)
    assert (result.exit_code, result.stdout) == (0, f"warroom {warroom.__version__}\n")


def test_every_help_names_types_in_words_users_know() -> None:
    assert len(COMMANDS) > 60
    for path in COMMANDS:
        shown = _help(path)
        assert "Usage: warroom" in shown, path
        found = TYPER_WORDS.findall(shown)
        assert not found, f"warroom {' '.join(path)} --help shows {found}:\n{shown}"


def test_options_show_text_integer_choices_and_time() -> None:
    listed = _help(("list",))
    assert "--status [open|all|triage|mitigating|mitigated|resolved|closed]" in listed
    assert "--severity [SEV1|SEV2|SEV3|SEV4|P1|P2|P3|P4|P5]" in listed
    assert "--limit INTEGER" in listed and "--service TEXT" in listed
    declared = _help(("declare",))
    assert "--detected-at TIME" in declared and "--impact-started-at TIME" in declared
    assert "-s, --service TEXT" in declared  # a repeatable option is still TEXT, not list[str]
    assert "--kind [availability|latency|data_integrity|security]" in declared
    proposed = _help(("mitigate", "propose"))
    assert "--expected-minutes DURATION" in proposed and "--prepared INTEGER" in proposed
    assert "Usage: warroom mitigate propose [OPTIONS] ID\n" in proposed
    assert "Usage: warroom update [OPTIONS] ID [TEXT]\n" in _help(("update",))
    assert "--until TIME" in _help(("signals", "silence"))
    assert "--due TIME" in _help(("followup", "add"))


def test_the_help_a_person_sees_is_the_same() -> None:
    """The real ``--help`` (one run through Typer) prints what the walk above reads."""
    shown = CliRunner().invoke(app, ["list", "--help"], env={"COLUMNS": "200"}).stdout
    assert "--status [open|all|triage|mitigating|mitigated|resolved|closed]" in shown
    assert not TYPER_WORDS.findall(shown)


def test_the_generated_reference_names_types_in_words() -> None:
    from warroom.docgen import cli_reference

    text = cli_reference()
    assert text == (REPO / "docs" / "cli.md").read_text()  # and it is the file on disk
    assert not TYPER_WORDS.findall(text), TYPER_WORDS.findall(text)[:5]
    assert "| `--detected-at TIME` | option |" in text
    assert (
        "| `--status [open\\|all\\|triage\\|mitigating\\|mitigated\\|resolved\\|closed]` | option |" in text
    )
    assert "| `--due TIME` | option |" in text
    assert "'10 minutes ago'" in text  # the time grammar is written out once, at the top
