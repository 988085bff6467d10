"""Project rules that must hold in CI too: layer contracts and generated docs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from warroom import docgen
from warroom.domain.incidents.events import EVENT_KINDS
from warroom.settings import DOCUMENTED

ROOT = Path(__file__).resolve().parents[1]


def test_imports_point_downward_between_layers() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_generated_reference_docs_are_current() -> None:
    for path, text in docgen.generated().items():
        assert path.read_text() == text, f"{path.name} is stale: run `make docs`"


def test_every_event_kind_is_documented() -> None:
    text = (ROOT / "docs" / "events.md").read_text()
    for kind in EVENT_KINDS:
        assert f"`{kind}`" in text


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    for key in DOCUMENTED:
        assert f"`{key}`" in text


def test_readme_names_the_two_commands_on_its_first_screen() -> None:
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:25])
    assert "make run" in first_screen and "make test" in first_screen
