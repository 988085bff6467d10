from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.comms.support import FakeClock, Receiver, SmtpServer, http_receiver, smtp_server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with http_receiver() as state:
        yield state


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server
