"""A SQLAlchemy-free read of the incident list on SQLite, for the CLI's cold start.

``warroom list`` must start in under 300 ms; importing SQLAlchemy alone costs ~220 ms.
This reads the same read model with the standard library. It returns None whenever it
cannot answer exactly (not SQLite, no database yet, schema not at head), and the caller
falls back to the regular path, which also migrates.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from warroom.storage.migrate_head import HEAD

_ISO = "%Y-%m-%dT%H:%M:%S.%fZ"


def _iso(text: str) -> str:
    # SQLAlchemy's SQLite DateTime storage: "YYYY-MM-DD HH:MM:SS.ffffff" in UTC.
    date, _, time = text.partition(" ")
    if "." not in time:
        time += ".000000"
    return f"{date}T{time}Z"


def fast_summaries(url: str, *, open_only: bool, limit: int) -> list[dict[str, Any]] | None:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = Path(url[len(prefix) :])
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        try:
            revision = db.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error:
            return None
        if revision is None or revision[0] != HEAD:
            return None
        where = "status != 'declaring'" + (" AND is_open = 1" if open_only else "")
        rows = db.execute(
            "SELECT number, title, status, severity, kind, services, commander, declared_at, detected_at, "
            f"updated_at, version FROM incidents WHERE {where} "
            "ORDER BY is_open DESC, severity, number DESC LIMIT ?",
            (limit,),
        ).fetchall()
    finally:
        db.close()
    return [
        {
            "id": f"INC-{r[0]}",
            "number": r[0],
            "title": r[1],
            "status": r[2],
            "severity": f"SEV{r[3]}",
            "kind": r[4],
            "services": json.loads(r[5]),
            "commander": r[6],
            "declared_at": _iso(r[7]),
            "detected_at": _iso(r[8]),
            "updated_at": _iso(r[9]),
            "version": r[10],
        }
        for r in rows
    ]
