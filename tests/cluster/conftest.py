"""The cluster suite: real processes on 127.0.0.1, marked ``cluster``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.harness import Cluster, Procs, postgres_database, processes, start_cluster


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.cluster)


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    with processes(tmp_path) as started:
        yield started


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Three ``warroom serve`` on one PostgreSQL database behind HAProxy, for a module."""
    folder = tmp_path_factory.mktemp("cluster")
    with postgres_database() as url, processes(folder) as started:
        yield start_cluster(started, url)
