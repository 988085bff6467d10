from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.comms.support import FakeClock, Receiver, Sender, SmtpServer, http_receiver, smtp_server


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


@pytest.fixture
def sender() -> Iterator[Sender]:
    made = Sender()
    yield made
    for close in made.closers:
        close()
