"""Real receivers for the comms tests: an HTTP server and an SMTP server on 127.0.0.1,
and a clock that moves only when told to. Nothing is patched."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

DOCS = Path(__file__).resolve().parents[2] / "docs" / "notifications.md"
SECRET = "a long random string"
T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


class Sender:
    """The notifier made from settings, closed after the test (the ``sender`` fixture)."""

    def __init__(self) -> None:
        self.closers: list[Callable[[], None]] = []

    def __call__(self, notify: Any) -> Any:
        from warroom.integrations.notify_config import make_notifier

        notifier, close = make_notifier(notify)
        self.closers.append(close)
        return notifier


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def key(self) -> str:
        return self.headers["Idempotency-Key"]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST and answers with whatever ``respond`` says."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    respond: Callable[[Received], tuple[int, dict[str, str]]] = lambda _: (204, {})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def idempotency_keys(self) -> list[str]:
        with self.lock:
            return [r.key for r in self.requests]


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a sender killed mid-request leaves a broken pipe; that is the point of the test


@contextmanager
def http_receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            request = Received(self.path, dict(self.headers.items()), body)
            with state.lock:
                state.requests.append(request)
            status, headers = state.respond(request)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = QuietServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/hooks/incidents"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Hanging:
    """A receiver that accepts connections and never answers."""

    url: str
    accepted: list[socket.socket] = field(default_factory=list)


@contextmanager
def hanging_server() -> Iterator[Hanging]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.05)
    state = Hanging(f"http://127.0.0.1:{listener.getsockname()[1]}/hooks/hang")
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            state.accepted.append(connection)  # read nothing, answer nothing

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        thread.join()
        for connection in state.accepted:
            connection.close()
        listener.close()


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it accepts."""

    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    mailbox: Mailbox
    port: int


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, ready_timeout=5.0)
    controller.start()
    try:
        yield SmtpServer(mailbox, port)
    finally:
        controller.stop()


def verifier_from_the_docs() -> Callable[..., bool]:
    """``verify_warroom_request`` as published in docs/notifications.md, run from there."""
    block = DOCS.read_text().split("<!-- recipe: verify -->", 1)[1]
    code = block.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(code, str(DOCS), "exec"), namespace)
    verify: Callable[..., bool] = namespace["verify_warroom_request"]
    return verify


@dataclass
class DocsReceiver:
    """The receiver published in docs/notifications.md, run as written."""

    url: str
    handled: list[dict[str, Any]]
    statuses: list[int]


@contextmanager
def receiver_from_the_docs() -> Iterator[DocsReceiver]:
    text = DOCS.read_text().split("<!-- recipe: verify -->", 1)[1]
    blocks = [part.split("```", 1)[0] for part in text.split("```python\n")[1:3]]
    handled: list[dict[str, Any]] = []
    statuses: list[int] = []
    namespace: dict[str, Any] = {"handle": handled.append}
    for block in blocks:
        exec(compile(block, str(DOCS), "exec"), namespace)
    documented = namespace["WarroomReceiver"]

    class Handler(documented):  # type: ignore[misc,valid-type]
        def send_response(self, code: int, message: str | None = None) -> None:
            statuses.append(code)
            super().send_response(code, message)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = QuietServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield DocsReceiver(f"http://127.0.0.1:{server.server_port}/warroom", handled, statuses)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
