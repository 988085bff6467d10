"""What people typed or alerts sent reaches the terminal written out, never obeyed: an
escape sequence in a title, an actor or an alert summary shows as ``\\x1b[31m`` in every
human output (fast paths included), and JSON escapes it. The stored text stays as sent."""

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
HOSTILE = "Pay\x1b[31mRED\x1b]0;pwned\x07 \x9b2J \u202eevil"
RAW = ("\x1b", "\x07", "\x9b", "\u202e")


def _run(args: list[str], env: dict[str, str], *, full: bool) -> subprocess.CompletedProcess[str]:
    command = [WARROOM, *args]
    if full:  # the whole CLI, not the start-up fast path of list and show
        code = "import sys; from warroom.cli.main import main; sys.argv = ['warroom', *sys.argv[1:]]; main()"
        command = [sys.executable, "-c", code, *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'warroom.db'}"
    app = build(Settings(database_url=url))
    room = ops.declare(
        app.context, HOSTILE, {"title": HOSTILE, "services": "checkout", "customer_impact": "7%"}
    )
    ops.fact(app.context, HOSTILE, room["id"], {"text": HOSTILE, "source": "dashboard"})
    app.context.uow.args[0].dispose()  # type: ignore[attr-defined]
    return {**os.environ, "WARROOM_DATABASE_URL": url, "COLUMNS": "400", "WARROOM_URL": ""}


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("args", [["list"], ["show", "INC-1"], ["timeline", "INC-1"]])
def test_human_output_writes_control_characters_out(env: dict[str, str], args: list[str], full: bool) -> None:
    result = _run(args, env, full=full)
    assert result.returncode == 0, result.stderr
    assert not any(raw in result.stdout for raw in RAW), repr(result.stdout[:400])
    assert "\\x1b[31mRED" in result.stdout


@pytest.mark.parametrize("full", [False, True])
def test_json_escapes_them_and_keeps_the_text_as_stored(env: dict[str, str], full: bool) -> None:
    result = _run(["show", "INC-1", "--json"], env, full=full)
    assert result.returncode == 0, result.stderr
    assert not any(raw in result.stdout for raw in RAW)
    assert json.loads(result.stdout)["title"] == HOSTILE


def test_an_error_line_writes_them_out_too(env: dict[str, str]) -> None:
    result = _run(["show", "INC-1\x1b[2J"], env, full=True)
    assert result.returncode != 0
    assert "\x1b" not in result.stderr and result.stderr.startswith("error: ")
