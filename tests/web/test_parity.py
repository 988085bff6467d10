"""Parity: every verb of the CLI has its place in the browser, or a stated reason it has not.

The table below is the contract. A new CLI verb fails this test until it is given a web
route or a reason; a route named here must exist in the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer.main
from starlette.routing import Route

from warroom.cli.main import app as cli
from warroom.web.forms import ACTIONS
from warroom.web.learning import build_learning_web_router
from warroom.web.oncall import build_oncall_web_router
from warroom.web.outbox_admin import build_outbox_admin_router
from warroom.web.routes import build_router
from warroom.web.signals import ACTIONS as SIGNAL_ACTIONS
from warroom.web.xray import build_xray_web_router

ROOM = ("GET", "/incidents/{ref}")
CLI_ONLY = "cli-only"

# CLI verb -> (method, web path) or (CLI_ONLY, why)
PARITY: dict[str, tuple[str, str]] = {
    "declare": ("POST", "/incidents"),
    "list": ("GET", "/"),
    "show": ROOM,
    "timeline": ROOM,  # the room's timeline section, paged with ?before=
    "changes": ROOM,  # "changes near impact start"
    "stakeholders": ROOM,  # the Stakeholders section of the Act panel
    "mitigate list": ROOM,  # the Mitigations section, prepared ones included
    "assess": ("POST", "/incidents/{ref}/assess"),
    "severity": ("POST", "/incidents/{ref}/severity"),
    "role assign": ("POST", "/incidents/{ref}/role-assign"),
    "role handoff": ("POST", "/incidents/{ref}/role-handoff"),
    "fact": ("POST", "/incidents/{ref}/fact"),
    "guess": ("POST", "/incidents/{ref}/guess"),
    "confirm": ("POST", "/incidents/{ref}/confirm"),
    "refute": ("POST", "/incidents/{ref}/refute"),
    "decide": ("POST", "/incidents/{ref}/decide"),
    "note": ("POST", "/incidents/{ref}/note"),
    "change add": ("POST", "/incidents/{ref}/change"),
    "mitigate propose": ("POST", "/incidents/{ref}/propose"),
    "mitigate approve": ("POST", "/incidents/{ref}/approve"),
    "mitigate apply": ("POST", "/incidents/{ref}/apply"),
    "mitigate outcome": ("POST", "/incidents/{ref}/outcome"),
    "mitigate revert": ("POST", "/incidents/{ref}/revert"),
    "mitigate check": ("POST", "/incidents/{ref}/check"),
    "mitigated": ("POST", "/incidents/{ref}/mitigated"),
    "update": ("POST", "/incidents/{ref}/update"),
    "resolve": ("POST", "/incidents/{ref}/resolve"),
    "reopen": ("POST", "/incidents/{ref}/reopen"),
    "close": ("POST", "/incidents/{ref}/close"),
    "triage": ("POST", "/incidents/{ref}/triage"),
    "xray": ("GET", "/incidents/{ref}/xray"),  # its --pin: the page's pin form
    "signals declare": ("POST", "/signals/{service}/declare"),
    "signals attach": ("POST", "/signals/{service}/attach"),
    "signals silence": ("POST", "/signals/{service}/silence"),
    "postmortem show": ("GET", "/incidents/{ref}/postmortem"),
    "postmortem lint": ("GET", "/incidents/{ref}/postmortem"),  # findings listed on the page
    "postmortem draft": ("POST", "/incidents/{ref}/postmortem-draft"),
    "postmortem publish": ("POST", "/incidents/{ref}/postmortem-publish"),
    "postmortem amend": ("POST", "/incidents/{ref}/postmortem-amend"),
    "followup add": ("POST", "/incidents/{ref}/followup-add"),
    "followup done": ("POST", "/incidents/{ref}/followup-done"),
    "followup wontdo": ("POST", "/incidents/{ref}/followup-wontdo"),
    "report": ("GET", "/report"),
    # not in the browser, and why
    "postmortem edit": (CLI_ONLY, "not yet: sections are edited as a file (or PUT to the API)"),
    "followup list": (CLI_ONLY, "not yet across incidents: each postmortem page lists its own"),
    "readiness": (CLI_ONLY, "a playbook author's check of the catalog, not a step of a response"),
    "verify": (CLI_ONLY, "an administrator's audit of every chain; a broken one shows as a banner"),
    "import": (CLI_ONLY, "loads history from a file on the server's disk"),
    "init": (CLI_ONLY, "writes the configuration and database files before a server exists"),
    "serve": (CLI_ONLY, "starts the server this page runs on"),
    "worker": (CLI_ONLY, "a process that delivers the outbox"),
    "demo": (CLI_ONLY, "plays a scripted incident in a terminal (make demo)"),
    "outbox list": ("GET", "/admin/outbox"),  # pending, failing and dead, by channel
    "outbox retry": ("POST", "/admin/outbox/retry"),
    "outbox deliver": (CLI_ONLY, "operator tooling for the delivery queue"),
    "status subscribers list": (CLI_ONLY, "an administrator's list of the public's addresses"),
    "status subscribers remove": (
        CLI_ONLY,
        "an administrator's; subscribers remove themselves by their link",
    ),
    "token create": (CLI_ONLY, "tokens are secrets an administrator makes and hands out"),
    "token list": (CLI_ONLY, "tokens are an administrator's"),
    "token revoke": (CLI_ONLY, "tokens are an administrator's"),
    # the status page's admin form
    "status component list": ("GET", "/status/admin"),
    "status component set": ("POST", "/status/admin/{action}"),
    "status maintenance list": ("GET", "/status/admin"),
    "status maintenance add": ("POST", "/status/admin/{action}"),
    "status maintenance cancel": ("POST", "/status/admin/{action}"),
    "login": (CLI_ONLY, "signs the CLI in; the person approves its code on /device in the web"),
    "user add": (CLI_ONLY, "an administrator makes accounts; the person sets a password on /setup/..."),
    "user list": (CLI_ONLY, "accounts are an administrator's"),
    "user setup-link": (CLI_ONLY, "an administrator's, for a forgotten password"),
    "user unlock": (CLI_ONLY, "an administrator's; the locked page names the command"),
    "user reset-totp": (CLI_ONLY, "an administrator's, for a lost phone; the person enrols on /account"),
    "user role": (CLI_ONLY, "accounts are an administrator's"),
    "user sessions": (CLI_ONLY, "an administrator's; a person ends their own with Log out"),
    "user revoke-session": (CLI_ONLY, "an administrator's; a person ends their own with Log out"),
    # on call
    "page": ("POST", "/incidents/{ref}/page"),  # the room's "Page someone"
    "oncall page": ("POST", "/incidents/{ref}/page"),
    "ack": ("GET", "/ack/{token}"),  # one tap on the signed link in the notification
    "oncall now": ("GET", "/oncall"),
    "oncall shifts": ("GET", "/oncall"),
    "oncall schedule show": ("GET", "/oncall"),
    "oncall schedule list": ("GET", "/oncall"),
    "oncall calendar": ("GET", "/oncall/calendar/{token}.ics"),
    "oncall pages": (CLI_ONLY, "not yet: each room lists its incident's pages on the timeline"),
    "oncall resolve": (CLI_ONLY, "not yet: a page resolves with its incident"),
    "oncall apply": (CLI_ONLY, "loads a directory file from the operator's disk"),
    **{
        f"oncall {noun} {verb}": (
            CLI_ONLY,
            "not yet: the directory is kept as code (oncall apply) or the API",
        )
        for noun, verbs in {
            "person": ("add", "contact", "list", "remove", "rules", "show"),
            "policy": ("add", "assign", "list", "remove"),
            "schedule": ("add", "override", "remove", "swap", "unoverride"),
            "heartbeat": ("add", "list", "remove"),
        }.items()
        for verb in verbs
    },
}


def cli_verbs() -> list[str]:
    def walk(command: Any, prefix: tuple[str, ...] = ()) -> Iterator[str]:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from walk(sub, (*prefix, name))
        else:
            yield " ".join(prefix)

    return sorted(walk(typer.main.get_command(cli)))


def test_every_cli_verb_has_a_web_route_or_a_reason() -> None:
    verbs = cli_verbs()
    assert sorted(set(verbs) - set(PARITY)) == [], "add the new CLI verbs to the parity table"
    assert sorted(set(PARITY) - set(verbs)) == [], "the table names verbs the CLI no longer has"


def test_every_route_in_the_table_exists() -> None:
    web = [
        *build_router().routes,
        *build_learning_web_router().routes,
        *build_oncall_web_router().routes,
        *build_outbox_admin_router().routes,
        *build_xray_web_router().routes,
    ]
    routes = {(method, r.path) for r in web if isinstance(r, Route) for method in r.methods or ()}
    for verb, (method, path) in PARITY.items():
        if method == CLI_ONLY:
            assert path, verb  # a reason is stated
            continue
        head, _, action = path.rpartition("/")
        if method == "POST" and head == "/incidents/{ref}" and action not in ("", "{ref}"):
            assert action in ACTIONS, (verb, path)
            assert (method, "/incidents/{ref}/{action}") in routes
        elif method == "POST" and head == "/signals/{service}":
            assert action in SIGNAL_ACTIONS, (verb, path)
        else:
            assert (method, path) in routes, (verb, path)
