"""Files and settings a hostile or careless user hands the CLI: each is one error line,
never a traceback or an unbounded read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Cli

DEEP = "[" * 100_000 + "]" * 100_000


def test_a_deeply_nested_history_file_is_one_line(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_text(DEEP)
    line = cli.refused("import", str(path), "--json")
    assert "nests too deeply" in line, line


def test_deeply_nested_postmortem_sections_are_one_line(cli: Cli, tmp_path: Path) -> None:
    cli.ok("declare", "--title", "Checkout 5xx", "-s", "checkout")
    cli.ok("postmortem", "draft", "INC-1")
    path = tmp_path / "sections.json"
    path.write_text(DEEP)
    line = cli.refused("postmortem", "edit", "INC-1", "-f", str(path))
    assert "nests too deeply" in line, line


def test_an_endless_file_is_refused_without_reading_it_all(cli: Cli) -> None:
    line = cli.refused("import", "--format", "json", "/dev/zero", "--json")
    assert "more than" in line and "nothing was read" in line, line


@pytest.mark.parametrize("url", ["garbage", "mysql://db/warroom", "redis://localhost"])
def test_a_database_url_warroom_cannot_use_is_one_line(tmp_path: Path, url: str) -> None:
    env = {**os.environ, "WARROOM_DATABASE_URL": url, "WARROOM_URL": "", "WARROOM_HOME": str(tmp_path)}
    warroom = str(Path(sys.executable).with_name("warroom"))
    for args in (["list"], ["note", "INC-1", "x"]):
        result = subprocess.run([warroom, *args], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("error: WARROOM_DATABASE_URL must be a sqlite:///"), result.stderr
        assert len(result.stderr.splitlines()) == 1


def test_the_api_refuses_a_deeply_nested_history_import(tmp_path: Path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from fastapi.testclient import TestClient

    from warroom.bootstrap import build
    from warroom.server import create_app
    from warroom.services.identity import auth
    from warroom.settings import Settings

    app = build(Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}"))
    token = auth.create_token(app.context, "root", "admin")[0]
    with TestClient(create_app(app, with_web=False)) as client:
        answer = client.post(
            "/api/v1/history/import",
            json={"format": "json", "content": DEEP},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert "nests too deeply" in answer.json()["detail"]
