"""The ``warroom`` CLI through Typer's runner, against a database of the test's own.

``Cli.ok`` runs a command that must succeed (and parses its JSON when ``--json`` is
given); ``Cli.refused`` runs one that must fail cleanly: a non-zero exit, exactly one
line on stderr starting with ``error:`` (with ``--json``: one problem document, whose
``detail`` it returns as that line), no traceback, and nothing written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from warroom.cli.main import app

FINGERPRINT = (
    "SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM events),"
    " (SELECT coalesce(max(id), 0) FROM events), (SELECT coalesce(sum(version), 0) FROM incidents),"
    " (SELECT count(*) FROM changes), (SELECT count(*) FROM snapshots)"
)


@dataclass
class Cli:
    home: Path
    url: str
    env: dict[str, str] = field(default_factory=dict)
    _engine: Engine | None = None

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(app, list(args), env=self.env)

    def ok(self, *args: str) -> Any:
        result = self.run(*args)
        assert result.exit_code == 0, (
            f"{args}: exit {result.exit_code}\n{result.output}\n{result.exception!r}"
        )
        assert result.stderr == "", result.stderr
        return json.loads(result.stdout) if "--json" in args else result.stdout

    def refused(self, *args: str) -> str:
        """The one error line of a command that must fail without writing anything."""
        before = self.fingerprint()
        result = self.run(*args)
        assert result.exit_code != 0, f"{args} succeeded:\n{result.output}"
        assert isinstance(result.exception, SystemExit), f"{args} raised {result.exception!r}"
        assert "Traceback" not in result.output
        lines = result.stderr.splitlines()
        assert len(lines) == 1, f"{args} printed {len(lines)} lines on stderr:\n{result.stderr}"
        assert result.stdout == "", result.stdout
        assert self.fingerprint() == before, f"{args} wrote to the database"
        if "--json" in args:  # a problem document, as the API answers; read as the plain line
            problem = json.loads(lines[0])
            assert {"type", "title", "status", "detail"} <= problem.keys(), problem
            assert problem["type"].startswith("https://warroom.dev/problems/"), problem
            return f"error: {problem['detail']}"
        assert lines[0].startswith("error: "), lines[0]
        return lines[0]

    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.url)
        return self._engine

    def fingerprint(self) -> tuple[int, ...]:
        with self.engine().connect() as connection:
            row = connection.execute(text(FINGERPRINT)).one()
        return tuple(int(value) for value in row)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def make_cli(home: Path, url: str) -> Cli:
    env = {
        "WARROOM_DATABASE_URL": url,
        "WARROOM_HOME": str(home),
        "WARROOM_CONFIG": str(home / "warroom.toml"),
        "WARROOM_ACTOR": "tester",
        "WARROOM_URL": "",
        "WARROOM_TOKEN": "",
        "COLUMNS": "250",  # a wide terminal, so Rich tables do not wrap the words checked
    }
    return Cli(home=home, url=url, env=env)


@pytest.fixture
def cli(tmp_path: Path, sqlite_url: str) -> Iterator[Cli]:
    """A fresh home folder and SQLite database, with ``warroom init`` already run."""
    runner = make_cli(tmp_path, sqlite_url)
    runner.ok("init")
    yield runner
    runner.close()
