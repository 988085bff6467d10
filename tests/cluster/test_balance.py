"""`warroom serve --workers N` keeps its keep-alive connections spread over its processes:
one holding more than its share closes a connection after answering, the sender's
reconnect lands where the kernel puts it, and once even nothing is closed."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.harness import Procs, start_workers, write_config
from warroom.api.balance import ENV, ConnectionBalance, SharedLoad, shared_file

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: warroom\r\n\r\n"


class Sender:
    """A keep-alive HTTP/1.1 connection that reconnects when told ``Connection: close``."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.closed = 0

    def ask(self) -> None:
        self.sock.sendall(REQUEST)
        reply = self.sock.makefile("rb")
        status = reply.readline()
        assert status.startswith(b"HTTP/1.1 200"), status
        length, closing = 0, False
        while (line := reply.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"connection" and b"close" in value.lower():
                closing = True
        assert len(reply.read(length)) == length  # answered in full, also when closing
        reply.close()
        if closing:
            self.closed += 1
            self.sock.close()
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)

    @property
    def local_port(self) -> int:
        return int(self.sock.getsockname()[1])


def _owners(pids: list[int], server_port: int) -> dict[int, int]:
    """Client port -> the server process holding that connection (from /proc)."""
    inodes: dict[str, int] = {}
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes[target[8:-1]] = pid
    owners = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == server_port and inode in inodes:
            owners[int(remote.split(":")[1], 16)] = inodes[inode]
    return owners


def test_two_processes_end_up_with_four_of_eight_connections_each(
    sqlite_url: str, tmp_path: Path, procs: Procs
) -> None:
    server, pids = start_workers(procs, write_config(tmp_path, sqlite_url), 2)
    port = server.port
    senders = [Sender(port) for _ in range(8)]
    try:
        closes = []
        for _ in range(100):  # every connection busy, round after round, for 2.5 s and more
            before = sum(s.closed for s in senders)
            for sender in senders:
                sender.ask()
            closes.append(sum(s.closed for s in senders) - before)
            time.sleep(0.025)  # past ACTIVE, so the readiness probe's connection no longer counts
        owners = _owners(pids, port)
        held = sorted(sum(1 for s in senders if owners.get(s.local_port) == pid) for pid in pids)
        assert held == [4, 4], (held, closes)
        assert sum(closes[-20:]) == 0, closes  # once even, nothing more is closed
    finally:
        for sender in senders:
            sender.sock.close()


# --- the rule, in process ------------------------------------------------------------------

HOLD_SLOT = """
import sys, time
from warroom.api.balance import SharedLoad
load = SharedLoad(sys.argv[1])
load.publish(int(sys.argv[2]), time.monotonic())
print("holding", load.slot, flush=True)
for _ in range(600):  # busy: what it holds stays fresh
    load.publish(int(sys.argv[2]), time.monotonic())
    time.sleep(0.1)
"""


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _answer(balance: ConnectionBalance, peer: tuple[str, int]) -> tuple[int, bool, bytes]:
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    asyncio.run(balance({"type": "http", "client": peer}, receive, send))
    headers = dict(sent[0]["headers"])
    return sent[0]["status"], headers.get(b"connection") == b"close", sent[1]["body"]


def test_a_process_over_its_share_closes_connections_after_answering_until_even(
    tmp_path: Path,
) -> None:
    with shared_file(2) as value:
        other = subprocess.Popen(
            [sys.executable, "-c", HOLD_SLOT, value, "2"], stdout=subprocess.PIPE, text=True
        )
        try:
            assert other.stdout is not None and other.stdout.readline().startswith("holding 0")
            clock = [time.monotonic()]
            balance = ConnectionBalance(_ok, SharedLoad(value), clock=lambda: clock[0])
            answers = [_answer(balance, ("127.0.0.1", 40000 + n)) for n in range(6)]
            assert all(status == 200 and body == b"ok" for status, _, body in answers)
            # 2 held there: the 3rd here is within ceil(5/2); the 4th is one over ceil(6/2) and
            # is closed after its answer, and so are the 5th and 6th while 4 against 2
            assert [closing for _, closing, _ in answers] == [False] * 3 + [True] * 3
            clock[0] += 0.3
            assert not _answer(balance, ("127.0.0.1", 40000))[1]  # 3 against 2: within its share
        finally:
            other.kill()
            other.wait()
            other.stdout.close()


def test_a_lone_process_and_a_dead_ones_slot_close_nothing(tmp_path: Path) -> None:
    with shared_file(2) as value:
        load = SharedLoad(value)  # slot 0
        gone = subprocess.Popen(
            [sys.executable, "-c", HOLD_SLOT, value, "50"], stdout=subprocess.PIPE, text=True
        )
        assert gone.stdout is not None and gone.stdout.readline().startswith("holding 1")
        gone.kill()  # its slot keeps a fresh "50", but its lock died with it
        gone.wait()
        gone.stdout.close()
        balance = ConnectionBalance(_ok, load)
        assert not any(_answer(balance, ("127.0.0.1", 41000 + n))[1] for n in range(8))
        assert load.alive == [0]


@pytest.mark.parametrize("value", ["", "two:/tmp/x", "0:/tmp/x", "2:", "-1:/tmp/x"])
def test_a_malformed_setting_is_refused_with_its_name(value: str) -> None:
    with pytest.raises(ValueError, match=ENV):
        SharedLoad(value)


def test_a_peer_sent_as_a_list_or_not_at_all_is_answered(tmp_path: Path) -> None:
    with shared_file(1) as value:
        balance = ConnectionBalance(_ok, SharedLoad(value))
        sent: list[dict[str, Any]] = []

        async def send(message: Any) -> None:
            sent.append(message)

        async def receive() -> Any:
            return {"type": "http.request", "body": b""}

        for client in (["127.0.0.1", 42000], None):
            asyncio.run(balance({"type": "http", "client": client}, receive, send))
        assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [200, 200]
