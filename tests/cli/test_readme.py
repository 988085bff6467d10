"""The README's quick start runs as written, line by line, on a fresh folder: it is the
first thing a new user tries, so a test keeps it from drifting (as datasette does)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.cli.conftest import Cli, make_cli

README = Path(__file__).resolve().parents[2] / "README.md"


def quick_start() -> list[list[str]]:
    """The ``warroom`` commands of the README's quick start, continuation lines joined."""
    text = README.read_text()
    section = text[text.index("## Quick start (terminal)") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the quick start has no sh block"
    joined = block.group(1).replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0].endswith("/warroom"):
            commands.append(words[1:])
    return commands


def test_the_quick_start_runs_as_written(tmp_path: Path, sqlite_url: str) -> None:
    commands = quick_start()
    assert len(commands) >= 10 and commands[0] == ["init"]
    cli: Cli = make_cli(tmp_path, sqlite_url)
    try:
        for args in commands:
            result = cli.run(*args)
            assert result.exit_code == 0, (
                f"warroom {shlex.join(args)}: exit {result.exit_code}\n{result.output}"
            )
    finally:
        cli.close()
    shown = cli.run("show", "INC-1", "--json")
    assert '"status": "resolved"' in shown.stdout
