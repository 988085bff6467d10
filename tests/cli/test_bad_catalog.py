"""A catalog the alert router could not read stops every verb and ``serve`` at start, in one
line naming file, line and field (the reader itself: tests/integrations/test_catalog_file.py)."""

from __future__ import annotations

from tests.cli.conftest import Cli
from tests.integrations.test_catalog_file import _write


def test_every_verb_that_reads_the_catalog_refuses_it_in_one_line(cli: Cli) -> None:
    cli.ok("declare", "--title", "Checkout 5xx", "-s", "checkout")
    _write(cli.home, "'job=~\"(checkout\"'")
    line = cli.refused("mitigate", "list", "INC-1")
    assert line.startswith("error: catalog.yaml:8: services[0].matchers[1]: "), line


def test_serve_does_not_start_on_a_bad_catalog(cli: Cli) -> None:
    _write(cli.home, "'job=~\"(checkout\"'")
    result = cli.run("serve", "--port", "1")  # refused before it would listen
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: catalog.yaml:8: services[0].matchers[1]: "), result.stderr
    assert len(result.stderr.splitlines()) == 1
