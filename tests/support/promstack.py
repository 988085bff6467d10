"""The PromStack harness (``warroom.devstack``, where ``warroom demo --live`` uses it too),
and one stack shared by every test that scrapes demo-shop.

Starting a stack costs seconds, and every scenario needs a healthy stretch of the shop's
rates before it; one stack for the session lets a test use the stretch the previous one
left. The tests that use it (fixture ``promstack``) run together at the end of the
session, so the stack does not load the machine during the rest of the suite. Between
them the shop is made healthy again (no fault, the flag on) and Alertmanager's
notifications go back to :class:`WebhookReceiver`. Tests that stop Prometheus start
their own ``PromStack``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from warroom.devstack import (
    BINARIES,
    NOWHERE,
    SHOP_DIR,
    Availability,
    PromStack,
    StackError,
    binaries_available,
    find_binary,
    free_port,
    shop_dir,
)

__all__ = [
    "BINARIES",
    "NOWHERE",
    "SHOP_DIR",
    "Availability",
    "PromStack",
    "SharedStack",
    "StackError",
    "WebhookReceiver",
    "binaries_available",
    "find_binary",
    "free_port",
    "shop_dir",
]


class WebhookReceiver:
    """Collects what Alertmanager posts, as warroom's /hooks/alertmanager would."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/alertmanager"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


FLAG = "new_payment_flow"  # the shop's flag that its faults hang on by default


class SharedStack:
    """The session's stack and the receiver its Alertmanager posts to."""

    def __init__(self, stack: PromStack, receiver: WebhookReceiver) -> None:
        self.stack = stack
        self.receiver = receiver

    def settled_at(self, clears: float) -> float:
        """When (``time.monotonic()``) the last change has left rates that need ``clears``
        seconds to forget it; a stack that never changed is settled since it was ready."""
        changed = self.stack.changed_at
        return self.stack.ready_at if changed is None else changed + clears

    def wait_until(self, at: float) -> None:
        """Sleep until ``time.monotonic()`` reaches ``at``: the shop's rates are a function
        of the clock (a rate over N s forgets a change N s later); nothing to poll."""
        if (wait := at - time.monotonic()) > 0:
            time.sleep(wait)

    def wait_for_no_alerts(self, timeout: float = 60) -> None:
        """Until Alertmanager holds no active alert (an earlier test's fault has resolved)."""
        deadline = time.monotonic() + timeout
        while held := self.stack.alerts():
            if time.monotonic() > deadline:
                raise AssertionError(f"Alertmanager still holds alerts after {timeout:g} s: {held}")
            time.sleep(0.2)

    @contextmanager
    def alerts_to(self, webhook_url: str) -> Iterator[None]:
        """Alertmanager posts to ``webhook_url`` inside the block, from a quiet start."""
        self.wait_for_no_alerts()
        self.stack.send_alerts_to(webhook_url)
        try:
            yield
        finally:
            self.stack.send_alerts_to(self.receiver.url)

    def reset(self) -> None:
        """Healthy again: no fault, the flag on. Clearing faults that failed nothing (their
        flag is off) and turning the flag back on change no rate, so they do not count as
        a change (``settled_at``)."""
        state = self.stack.shop_state()
        flags = state["flags"]
        failing = any(fault["flag"] is None or flags.get(fault["flag"]) for fault in state["faults"])
        changed = self.stack.changed_at
        if state["faults"]:
            self.stack.clear_fault()
        if not flags.get(FLAG, True):
            self.stack.set_flag(FLAG, enabled=True)
        if not failing:
            self.stack.changed_at = changed


@pytest.fixture(scope="session")
def _shared_promstack() -> Iterator[SharedStack]:
    receiver = WebhookReceiver()
    try:
        with PromStack(webhook_url=receiver.url) as stack:
            yield SharedStack(stack, receiver)
    finally:
        receiver.close()


@pytest.fixture
def promstack(_shared_promstack: SharedStack) -> Iterator[SharedStack]:
    """The session's stack, healthy again after the test."""
    yield _shared_promstack
    _shared_promstack.reset()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests on the shared stack last and together (the order among them kept)."""
    shared = [item for item in items if "_shared_promstack" in getattr(item, "fixturenames", ())]
    if shared:
        rest = [item for item in items if "_shared_promstack" not in getattr(item, "fixturenames", ())]
        items[:] = rest + shared
