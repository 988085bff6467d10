"""``warroom init``: a config file, an example catalog and playbook, a migrated database."""

from __future__ import annotations

import os
import secrets
from importlib import resources
from pathlib import Path
from typing import Any

FILES = ("warroom.toml", "catalog.yaml", "playbooks/checkout.yaml")


def scaffold(*, force: bool, folder: Path | None = None) -> dict[str, Any]:
    from warroom.bootstrap import build
    from warroom.settings import load_settings
    from warroom.storage.migrate_head import HEAD

    target = folder or Path(os.environ.get("WARROOM_HOME", "") or Path.cwd())
    examples = resources.files("warroom") / "examples"
    written: list[str] = []
    kept: list[str] = []
    for name in FILES:
        path = target / name
        if path.exists() and not force:
            kept.append(str(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        text = (examples / name).read_text()
        if name == "warroom.toml":
            # A per-installation key, so web sessions survive restarts (never a shared default).
            text = text.replace(
                'catalog = "catalog.yaml"',
                f'catalog = "catalog.yaml"\n\n# Signs web session cookies.\nsecret_key = "{secrets.token_urlsafe(32)}"',
            )
        path.write_text(text)
        written.append(str(path))
    env = dict(os.environ)
    env.setdefault("WARROOM_CONFIG", str(target / "warroom.toml"))
    settings = load_settings(env=env, cwd=target)
    app = build(settings)  # migrates
    engine = getattr(app.context.uow, "args", (None,))[0]
    if engine is not None:  # its pooled connections would outlive the command (PostgreSQL)
        engine.dispose()
    return {"written": written, "kept": kept, "database": settings.database_url, "revision": HEAD}
