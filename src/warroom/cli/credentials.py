"""The CLI's saved sign-ins: a personal token per server URL, in the user's config.

``$WARROOM_CREDENTIALS``, else ``$XDG_CONFIG_HOME/warroom/credentials.json``, else
``~/.config/warroom/credentials.json``; the folder is made 0700 and the file written 0600
(replaced atomically), because it holds secrets. ``--url`` without ``--token`` uses the
token saved for that URL.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def path() -> Path:
    explicit = os.environ.get("WARROOM_CREDENTIALS")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "warroom" / "credentials.json"


def _key(url: str) -> str:
    return url.strip().rstrip("/")


def _read(where: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    servers = data.get("servers") if isinstance(data, dict) else None
    return {k: v for k, v in servers.items() if isinstance(v, dict)} if isinstance(servers, dict) else {}


def token_for(url: str) -> str | None:
    token = _read(path()).get(_key(url), {}).get("token")
    return token if isinstance(token, str) and token else None


def save(url: str, token: str, handle: str | None = None) -> Path:
    where = path()
    where.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    servers = _read(where)
    servers[_key(url)] = {"token": token} | ({"handle": handle} if handle else {})
    partial = where.with_name(where.name + ".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"servers": servers}, out, indent=2, sort_keys=True)
    os.chmod(partial, 0o600)
    os.replace(partial, where)
    return where
