"""The console-script entry: a fast path for ``warroom list``, then the full CLI.

The cold-start budget for ``warroom list`` is 300 ms. Building the Typer command tree and
its parameter adapters costs more than that before any work starts, so a plain
``warroom list [--open] [--json] [--limit N]`` in embedded mode on SQLite is answered
here with the standard library and Rich. Anything else, or anything this path cannot
answer exactly (no database yet, an older schema, filters), goes to the full CLI.
"""

from __future__ import annotations

import os
import sys


def _fast_list(argv: list[str]) -> bool:
    if not argv or argv[0] != "list" or os.environ.get("WARROOM_URL"):
        return False
    as_json = open_only = False
    limit = 200
    rest = argv[1:]
    while rest:
        flag = rest.pop(0)
        if flag == "--json":
            as_json = True
        elif flag == "--open":
            open_only = True
        elif flag == "--limit" and rest and rest[0].isdigit() and 1 <= int(rest[0]) <= 1000:
            limit = int(rest.pop(0))
        else:
            return False
    from warroom.settings import SettingsError, load_settings
    from warroom.storage.fast_read import fast_summaries

    try:
        settings = load_settings()
    except SettingsError:
        return False
    rows = fast_summaries(settings.database_url, open_only=open_only, limit=limit)
    if rows is None:
        return False
    if as_json:
        import json

        print(json.dumps(rows, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        from warroom.cli.render import incident_list

        incident_list(rows)
    return True


def main() -> None:
    if _fast_list(sys.argv[1:]):
        return
    from warroom.cli.main import main as full

    full()
