"""``warroom xray`` through Typer's runner on a database of the test's own: the verdict and
the call graph, ``--json``, ``--pin``, a degraded source in one line with exit 1, and bad
input refused in one line with nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, make_cli
from warroom.bootstrap import build
from warroom.settings import load_settings

from .shop import shop


@pytest.fixture
def cli(tmp_path: Path, sqlite_url: str) -> Iterator[Cli]:
    runner = make_cli(tmp_path, sqlite_url)
    runner.ok("init")  # the example catalog: checkout (storefront), payments (payments)
    runner.ok("declare", "--title", "Checkout 5xx", "-s", "checkout")
    yield runner
    runner.close()


def _traces(cli: Cli) -> None:
    app = build(load_settings(cli.env, cwd=cli.home))
    now = datetime.now(UTC)
    store = app.context.xray.store
    store.add(shop(41, 120, 0.4, start_us=int((now - timedelta(minutes=5)).timestamp() * 1e6)), now)
    app.context.uow.args[0].dispose()  # type: ignore[attr-defined]


def test_xray_prints_the_verdict_and_pins_it(cli: Cli) -> None:
    # no traces yet: said in one line; not a failure of the tooling, so exit 0
    assert cli.ok("xray", "INC-1").startswith("INC-1 degraded: no traces of checkout in the window")
    _traces(cli)
    out = cli.ok("xray", "INC-1")
    assert "end in payments → adyen (timeout after 5 s)" in out
    assert "payments → adyen" in out and "call graph" in out
    view = cli.ok("xray", "INC-1", "--json")
    assert view["status"] == "ok" and view["origins"][0]["path"] == ["checkout", "payments", "adyen"]
    pinned = cli.ok("xray", "INC-1", "--pin", "0", "--json")
    assert pinned["fact"] == "F1" and pinned["text"] == f"X-ray: {view['verdict']}"
    assert pinned["text"] in cli.ok("show", "INC-1")


def test_a_source_that_is_down_is_one_degraded_line(cli: Cli) -> None:
    config = cli.home / "warroom.toml"
    config.write_text(
        config.read_text() + '\n[xray]\nsource = "prod"\ntimeout_seconds = 1\n'
        '[xray.sources.prod]\nkind = "tempo"\nurl = "http://127.0.0.1:9"\n'
    )
    result = cli.run("xray", "INC-1")
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("INC-1 degraded: Tempo at http://127.0.0.1:9 is unreachable")


def test_bad_input_is_refused_in_one_line(cli: Cli) -> None:
    cli.refused("xray", "INC-99")
    cli.refused("xray", "INC-1", "--pin", "0")  # nothing to pin without traces
    assert cli.run("xray", "INC-1", "--pin", "-1").exit_code == 2
    assert cli.run("xray", "INC-1", "--pin", "abc").exit_code == 2
    config = cli.home / "warroom.toml"
    config.write_text(config.read_text() + '\n[xray]\nsource = "nowhere"\n')
    assert "xray.source" in cli.refused("xray", "INC-1")
