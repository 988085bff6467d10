"""The cold-start fast paths print exactly what the full CLI prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from warroom.bootstrap import build
from warroom.services import operations as ops
from warroom.settings import Settings

WARROOM = str(Path(sys.executable).with_name("warroom"))


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run([WARROOM, *args], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _full(args: list[str], env: dict[str, str]) -> str:
    code = "import sys; from warroom.cli.main import main; sys.argv = ['warroom', *sys.argv[1:]]; main()"
    result = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'warroom.db'}"
    app = build(Settings(database_url=url))
    room = ops.declare(
        app.context, "pager", {"title": "Checkout errors", "services": "checkout", "customer_impact": "7%"}
    )
    ops.fact(app.context, "alice", room["id"], {"text": "5xx at 7%", "source": "dashboard"})
    ops.guess(app.context, "alice", room["id"], {"text": "the 10:00 deploy"})
    ops.add_change(app.context, "ci", {"service": "checkout", "kind": "deploy", "summary": "v2"})
    return {**os.environ, "WARROOM_DATABASE_URL": url}


def _without_clock(text: str) -> dict[str, object]:
    view = json.loads(text)
    view.pop("update_overdue", None)  # derived from "now", which differs between the two runs
    return view


def test_show_json_from_the_fast_path_equals_the_full_cli(env: dict[str, str]) -> None:
    assert _without_clock(_run(["show", "INC-1", "--json"], env)) == _without_clock(
        _full(["show", "INC-1", "--json"], env)
    )


def test_list_json_from_the_fast_path_equals_the_full_cli(env: dict[str, str]) -> None:
    assert json.loads(_run(["list", "--json"], env)) == json.loads(_full(["list", "--json"], env))


def test_an_unknown_incident_on_the_fast_path_still_gets_the_one_line_error(env: dict[str, str]) -> None:
    result = subprocess.run([WARROOM, "show", "INC-99"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip() == "error: no incident INC-99"


@pytest.mark.parametrize(
    "filters",
    [
        ["--status", "triage"],
        ["--severity", "SEV2"],
        ["--severity", "3"],
        ["--service", "checkout"],
        ["--service", "nothing"],
        ["--open", "--limit", "1"],
    ],
)
def test_filtered_list_json_from_the_fast_path_equals_the_full_cli(
    env: dict[str, str], filters: list[str]
) -> None:
    args = ["list", "--json", *filters]
    assert json.loads(_run(args, env)) == json.loads(_full(args, env))


def test_a_bad_filter_value_still_gets_the_full_cli_error(env: dict[str, str]) -> None:
    result = subprocess.run(
        [WARROOM, "list", "--severity", "SEV9"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0 and result.stderr.startswith("error:")


def _modules_after(code: str, env: dict[str, str]) -> set[str]:
    """The modules loaded once ``code`` ran with its stdout discarded."""
    script = (
        "import contextlib, io, sys\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    {code}\n"
        "print(' '.join(sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


@pytest.mark.parametrize("args", [["list"], ["list", "--json", "--service", "checkout"], ["show", "INC-1"]])
def test_the_cold_paths_run_the_stores_reads_without_sqlalchemy(env: dict[str, str], args: list[str]) -> None:
    loaded = _modules_after(
        f"sys.argv = ['warroom', *{args!r}]; from warroom.cli.entry import main; main()", env
    )
    assert "warroom.storage.sqlite_read" in loaded  # it did take the fast path
    assert not {"sqlalchemy", "typer", "warroom.cli.main"} & loaded


def test_the_report_reads_without_sqlalchemy_once_records_are_current(env: dict[str, str]) -> None:
    _full(["report", "--json"], env)  # builds INC-1's review record (a write: the full path)
    code = (
        "from warroom.cli.fast import report; from warroom.settings import load_settings; "
        "assert report(load_settings(), {'since': None, 'until': None, 'service': None, 'severity': None})"
    )
    loaded = _modules_after(code, env)
    assert "sqlalchemy" not in loaded
