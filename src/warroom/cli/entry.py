"""The console-script entry: fast paths for ``warroom list`` and ``show``, then the full CLI.

The cold-start budget for ``warroom list`` and ``show`` is 300 ms. Building the Typer
command tree and importing SQLAlchemy cost more than that before any work starts, so
``warroom list [--open] [--json] [--limit N] [--status S] [--severity N] [--service S]``
and ``warroom show ID [--json]`` in embedded mode on SQLite are answered here
(``cli.fast``: the stores' own reads, run with sqlite3). Anything else, or anything this
path cannot answer exactly (no database yet, an older schema, a bad value, an unknown
incident), goes to the full CLI.
"""

from __future__ import annotations

import os
import sys
from typing import Any

STATUSES = ("triage", "mitigating", "mitigated", "resolved", "closed")
SEVERITIES = (
    {f"SEV{n}": n for n in range(1, 5)}
    | {str(n): n for n in range(1, 5)}
    | {f"P{n}": min(n, 4) for n in range(1, 6)}
)  # P5 is SEV4: domain.incidents.severity.PRIORITIES, which tests/cli/test_listing.py holds this to


def _fast_list(argv: list[str]) -> bool:
    if not argv or argv[0] != "list" or os.environ.get("WARROOM_URL"):
        return False
    as_json = open_only = False
    limit = 200
    filters: dict[str, Any] = {}
    rest = argv[1:]
    while rest:
        flag = rest.pop(0)
        value = rest[0] if rest else ""
        if flag == "--json":
            as_json = True
        elif flag == "--open":
            open_only = True
        elif flag == "--limit" and value.isascii() and value.isdecimal() and 1 <= int(value) <= 1000:
            limit = int(rest.pop(0))
        elif flag == "--status" and value in STATUSES:
            filters["status"] = rest.pop(0)
        elif flag == "--status" and value in ("open", "all"):
            open_only = open_only or rest.pop(0) == "open"
        elif flag == "--severity" and value.upper() in SEVERITIES:
            filters["severity"] = SEVERITIES[rest.pop(0).upper()]
        elif flag == "--service" and value.strip() and len(value) <= 100 and "\x00" not in value:
            filters["service"] = rest.pop(0)
        else:
            return False  # anything else, including bad values, gets the full CLI's answer
    from warroom.cli import fast
    from warroom.domain.shared.text import json_safe, visible_all
    from warroom.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError:
        return False
    rows = fast.incident_list(settings, open_only=open_only, limit=limit, **filters)
    if rows is None:
        return False
    if as_json:
        import json

        print(json_safe(json.dumps(rows, indent=2, sort_keys=True, ensure_ascii=False)))
    else:
        from warroom.cli.render import incident_list

        incident_list(visible_all(rows))  # type: ignore[arg-type]
    return True


def _fast_show(argv: list[str]) -> bool:
    """``warroom show ID [--json]`` through a read-only sqlite3 unit of work; the same
    ``operations.room`` runs, only the execution of the stores' reads differs."""
    if len(argv) not in (2, 3) or argv[0] != "show" or os.environ.get("WARROOM_URL"):
        return False
    ref, flags = argv[1], argv[2:]
    if ref.startswith("-") or flags not in ([], ["--json"]):
        return False
    from warroom.cli import fast
    from warroom.domain.shared.text import json_safe, visible_all
    from warroom.settings import SettingsError, load_settings

    try:
        view = fast.room(load_settings(), ref)
    except SettingsError:
        return False  # the full CLI prints the one-line error
    if view is None:
        return False
    if flags:
        import json

        print(json_safe(json.dumps(view, indent=2, sort_keys=True, ensure_ascii=False)))
    else:
        from warroom.cli.render import room as render_room

        render_room(visible_all(view))  # type: ignore[arg-type]
    return True


def main() -> None:
    if _fast_list(sys.argv[1:]) or _fast_show(sys.argv[1:]):
        return
    from warroom.cli.main import main as full

    full()
