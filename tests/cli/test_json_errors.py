"""With ``--json``, every refusal is one line of JSON on stderr with the API's problem
fields (``type``, ``title``, ``status``, ``detail``, ``field``...), and the exit code is
the one the plain line gets; with ``--url`` the server's own problem passes through."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from tests.api.conftest import Clock, make_api
from tests.cli.conftest import Cli, make_cli
from tests.cli.test_bad_input import WITH_ID
from tests.cli.test_words import COMMANDS, ROOT
from tests.web.browser import running
from warroom.server import create_app

BASE = "https://warroom.dev/problems/"
JSON_VERBS = sorted(
    path for path, command in COMMANDS.items() if any(p.name == "as_json" for p in command.params)
)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    home = tmp_path_factory.mktemp("json-errors")
    cli = make_cli(home, f"sqlite:///{home / 'warroom.db'}")
    cli.ok("init")
    cli.ok("declare", "--title", "Checkout 5xx", "-s", "checkout")
    yield cli
    cli.close()


def _problem(result: Result) -> dict[str, Any]:
    """The one problem line of a refused command: nothing on stdout, no traceback."""
    assert result.stdout == "", result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    problem = json.loads(lines[0])
    assert isinstance(problem, dict)
    assert {"type", "title", "status", "detail"} <= problem.keys(), problem
    assert problem["type"].startswith(BASE) and isinstance(problem["status"], int)
    return problem


def test_every_verb_that_takes_json_has_been_found() -> None:
    assert len(JSON_VERBS) > 60
    assert ("list",) in JSON_VERBS and ("oncall", "schedule", "show") in JSON_VERBS
    assert ("token", "create") in JSON_VERBS and ("postmortem", "lint") in JSON_VERBS


def test_every_json_verb_answers_a_usage_error_as_a_problem(seeded: Cli) -> None:
    runner = CliRunner()  # on the tree built once: Typer's runner would rebuild it each time

    def run(*args: str) -> Result:
        return runner.invoke(ROOT, list(args), env=seeded.env, prog_name="warroom")

    for path in JSON_VERBS:
        plain = run(*path, "--bogus")
        as_json = run(*path, "--bogus", "--json")
        assert plain.exit_code == as_json.exit_code == 2, (path, plain.output, as_json.output)
        assert plain.stderr.startswith("error: No such option: --bogus"), plain.stderr
        problem = _problem(as_json)
        assert problem["type"] == BASE + "usage" and problem["status"] == 400, problem
        assert problem["detail"] == plain.stderr.removeprefix("error: ").rstrip("\n")


@pytest.mark.parametrize("verb", sorted(WITH_ID))
def test_every_incident_verb_answers_not_found_as_the_api_does(seeded: Cli, verb: str) -> None:
    args = [a.replace("{id}", "INC-404") for a in WITH_ID[verb]]
    plain = seeded.run(*args)
    problem = _problem(seeded.run(*args, "--json"))
    assert plain.exit_code == 1
    assert problem == {
        "type": BASE + "not-found",
        "title": "Not found",
        "status": 404,
        "detail": "no incident INC-404",
    }


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("note", "INC-1", ""), {"status": 422, "type": BASE + "validation", "field": "text"}),
        (("declare", "--title", "t", "--detected-at", "soon"), {"status": 422, "field": "detected_at"}),
        (("list", "--status", "opened"), {"status": 422, "field": "status"}),
        (("close", "INC-1"), {"status": 409, "type": BASE + "invalid-transition", "title": "Conflict"}),
        (("confirm", "INC-1", "G9"), {"status": 404}),
        (("declare", "--json"), {"status": 400, "type": BASE + "usage", "field": "title"}),
        (("list", "--limit", "abc"), {"status": 400, "type": BASE + "usage", "field": "limit"}),
        (("postmortem", "show", "INC-404"), {"status": 404}),
        (("followup", "done", "INC-1", "A9"), {"status": 404}),
        (("oncall", "schedule", "show", "nosuch"), {"status": 404}),
        (("token", "revoke", "nosuch"), {"status": 404}),
        (("signals", "silence", "checkout", "--until", "whenever", "--reason", "r"), {"field": "until"}),
        (("report", "--since", "2026-13-01"), {"status": 422, "field": "since"}),
    ],
)
def test_refusals_keep_their_exit_code_and_carry_the_problem_fields(
    seeded: Cli, args: tuple[str, ...], expected: dict[str, Any]
) -> None:
    before = seeded.fingerprint()
    plain = seeded.run(*[a for a in args if a != "--json"])
    as_json = seeded.run(*args, *(() if "--json" in args else ("--json",)))
    assert plain.exit_code == as_json.exit_code != 0
    problem = _problem(as_json)
    assert expected.items() <= problem.items(), problem
    assert plain.stderr.rstrip("\n") == f"error: {problem['detail']}" or problem["status"] == 400
    assert seeded.fingerprint() == before


def test_a_setup_that_cannot_serve_is_unavailable_with_exit_2(tmp_path: Path) -> None:
    cli = make_cli(tmp_path, "mysql://db/warroom")
    plain = cli.run("list", "--status", "open")
    problem = _problem(cli.run("list", "--status", "open", "--json"))
    assert plain.exit_code == 2
    assert problem["type"] == BASE + "unavailable" and problem["status"] == 503
    assert plain.stderr == f"error: {problem['detail']}\n"
    assert "does not exist (WARROOM_CONFIG)" in problem["detail"]


def test_hostile_text_in_a_problem_stays_escaped_json(seeded: Cli) -> None:
    for ref in ("INC-\x1b[31mred", "INC-\u202e7", "INC-\x00", "INC-" + "9" * 5000):
        result = seeded.run("show", ref, "--json")
        assert result.exit_code == 1
        problem = _problem(result)
        assert "\x1b" not in result.stderr and "\u202e" not in result.stderr and "\x00" not in result.stderr
        assert problem["field"] == "incident" and problem["status"] == 422


@pytest.fixture
def server(database_url: str, build_app: Any) -> Iterator[tuple[str, str, httpx.Client]]:
    """A real warroom server on SQLite or PostgreSQL: its URL, a responder token, a client."""
    clock = Clock()
    api = make_api(build_app(database_url, clock=clock), clock)
    with running(create_app(api.app, with_web=False)) as base, httpx.Client(base_url=base) as client:
        client.headers["Authorization"] = f"Bearer {api.tokens['alice']}"
        yield base, api.tokens["alice"], client


def test_with_url_the_servers_problem_passes_through(
    tmp_path: Path, server: tuple[str, str, httpx.Client]
) -> None:
    base, token, client = server
    cli = make_cli(tmp_path, f"sqlite:///{tmp_path / 'unused.db'}")
    cli.env |= {"WARROOM_URL": base, "WARROOM_TOKEN": token}
    answered = client.post("/api/v1/incidents", json={"title": "t", "detected_at": "soon"})
    result = cli.run("declare", "--title", "t", "--detected-at", "soon", "--json")
    assert result.exit_code == 1
    assert _problem(result) == answered.json()  # field by field, extra ones included
    assert answered.status_code == 422 and answered.json()["field"] == "detected_at"
    shown = client.get("/api/v1/incidents/INC-404")
    assert _problem(cli.run("show", "INC-404", "--json")) == shown.json()
    cli.env["WARROOM_TOKEN"] = "wr_not_a_token"
    refused = _problem(cli.run("list", "--json"))
    assert refused["status"] == 401 and refused["type"].startswith(BASE)
