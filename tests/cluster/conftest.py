"""The cluster suite: real processes on 127.0.0.1, marked ``cluster``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.harness import Procs, processes


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.cluster)


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    with processes(tmp_path) as started:
        yield started
