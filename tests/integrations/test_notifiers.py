"""The channel adapters against real receivers: an HTTP server on 127.0.0.1 and an
in-process aiosmtpd server. Nothing is patched."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from warroom.domain.comms.notifications import NOTIFICATION_KINDS, ChannelSpec, Notification, Route
from warroom.integrations.notifiers import (
    DeliveryFailed,
    DispatchingNotifier,
    EmailNotifier,
    Notifier,
    RecordingNotifier,
    SignedWebhookNotifier,
    SlackWebhookNotifier,
    slack_payload,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "notifications.md"
SECRET = "a long random string"


def a_notification(**changes: Any) -> Notification:
    n = Notification(
        key="outbox-4812",
        kind="severity_changed",
        incident="INC-7",
        severity=2,
        services=("checkout", "payments-api"),
        team="payments",
        title="Checkout errors in eu-west",
        text="Error ratio 12% and growing. Rolling back release 2024.06.1.",
        url="https://warroom.example.com/incidents/INC-7",
        fields=(("Commander", "alice"), ("Next update", "14:30 UTC")),
        occurred_at=datetime(2024, 6, 3, 14, 2, 11, tzinfo=UTC),
    )
    return replace(n, **changes)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- A real HTTP receiver --------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records every POST and answers with whatever `respond` says."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    respond: Callable[[Received], tuple[int, dict[str, str]]] = lambda _: (204, {})
    delay: float = 0.0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            request = Received(self.path, dict(self.headers.items()), body)
            state.requests.append(request)
            time.sleep(state.delay)
            status, headers = state.respond(request)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/hooks/T000/B000/SECRETPATH"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as c:
        yield c


def slack_channel(url: str) -> ChannelSpec:
    return ChannelSpec("incidents", "slack", url)


def webhook_channel(url: str) -> ChannelSpec:
    return ChannelSpec("status-bridge", "webhook", url, secret=SECRET)


def verifier_from_the_docs() -> Callable[..., bool]:
    """`verify_warroom_request`, run from docs/notifications.md itself, so the recipe
    we publish is the one these tests prove."""
    block = DOCS.read_text().split("<!-- recipe: verify -->", 1)[1]
    code = block.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(code, str(DOCS), "exec"), namespace)
    verify: Callable[..., bool] = namespace["verify_warroom_request"]
    return verify


def answer_like_the_docs(request: Received) -> tuple[int, dict[str, str]]:
    ok = verifier_from_the_docs()(
        SECRET,
        request.headers.get("X-Warroom-Timestamp"),
        request.headers.get("X-Warroom-Signature"),
        request.body,
    )
    return (204, {}) if ok else (401, {})


# --- Slack-style webhooks --------------------------------------------------------------


def test_slack_gets_a_fallback_text_and_blocks_with_the_idempotency_key(
    receiver: Receiver, client: httpx.Client
) -> None:
    SlackWebhookNotifier(client).send(a_notification(), slack_channel(receiver.url))

    [request] = receiver.requests
    assert request.path == "/hooks/T000/B000/SECRETPATH"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"] == "outbox-4812"
    payload = json.loads(request.body)
    assert payload["text"].startswith("[SEV2] INC-7: Checkout errors in eu-west\n\nError ratio")
    assert "https://warroom.example.com/incidents/INC-7" in payload["text"]
    header, section, field_section, context = payload["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "[SEV2] INC-7: Checkout errors in eu-west"},
    }
    assert section["text"]["type"] == "mrkdwn"
    assert section["text"]["text"].startswith("Error ratio 12%")
    assert [f["text"] for f in field_section["fields"]] == [
        "*Severity*\nSEV2",
        "*Services*\ncheckout, payments-api",
        "*Team*\npayments",
        "*Commander*\nalice",
        "*Next update*\n14:30 UTC",
    ]
    [link] = context["elements"]
    assert link["text"].startswith("<https://warroom.example.com/incidents/INC-7|INC-7> · ")


def test_slack_text_cannot_mention_a_whole_channel() -> None:
    payload = slack_payload(a_notification(title="<!channel> checkout down", text="<!here> & more"))
    assert "<!channel>" not in payload["text"]
    assert "&lt;!channel&gt; checkout down" in payload["text"]
    assert payload["blocks"][1]["text"]["text"] == "&lt;!here&gt; &amp; more"


def test_slack_leaves_out_blocks_a_notification_has_nothing_for() -> None:
    n = a_notification(
        kind="followup_overdue", incident=None, severity=None, services=(), team=None,
        text="", url=None, fields=(),
    )  # fmt: skip
    types = [block["type"] for block in slack_payload(n)["blocks"]]
    assert types == ["header", "context"]


def test_slack_keeps_to_block_kit_limits() -> None:
    n = a_notification(title="x" * 400, text="y" * 5000, fields=tuple((f"f{i}", "v") for i in range(20)))
    blocks = slack_payload(n)["blocks"]
    assert len(blocks[0]["text"]["text"]) == 150
    assert len(blocks[1]["text"]["text"]) == 3000
    assert len(blocks[2]["fields"]) == 10


# --- Signed webhooks -------------------------------------------------------------------


def test_a_signed_webhook_carries_the_documented_body_and_headers(
    receiver: Receiver, client: httpx.Client
) -> None:
    clock = lambda: 1717423331.9  # noqa: E731
    SignedWebhookNotifier(client, clock=clock).send(a_notification(), webhook_channel(receiver.url))

    [request] = receiver.requests
    assert json.loads(request.body) == {
        "id": "outbox-4812",
        "kind": "severity_changed",
        "incident": "INC-7",
        "severity": 2,
        "services": ["checkout", "payments-api"],
        "team": "payments",
        "title": "Checkout errors in eu-west",
        "text": "Error ratio 12% and growing. Rolling back release 2024.06.1.",
        "url": "https://warroom.example.com/incidents/INC-7",
        "fields": {"Commander": "alice", "Next update": "14:30 UTC"},
        "occurred_at": "2024-06-03T14:02:11+00:00",
    }
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"] == "outbox-4812"
    assert request.headers["X-Warroom-Timestamp"] == "1717423331"
    assert request.headers["X-Warroom-Signature"].startswith("v1=")
    assert len(request.headers["X-Warroom-Signature"]) == 3 + 64


def test_a_receiver_built_from_the_docs_accepts_a_signed_webhook(
    receiver: Receiver, client: httpx.Client
) -> None:
    receiver.respond = answer_like_the_docs
    SignedWebhookNotifier(client).send(a_notification(), webhook_channel(receiver.url))
    assert len(receiver.requests) == 1


def test_the_docs_recipe_rejects_a_tampered_body_or_a_wrong_secret(
    receiver: Receiver, client: httpx.Client
) -> None:
    SignedWebhookNotifier(client).send(a_notification(), webhook_channel(receiver.url))
    [request] = receiver.requests
    verify = verifier_from_the_docs()
    stamp = request.headers["X-Warroom-Timestamp"]
    signature = request.headers["X-Warroom-Signature"]

    assert verify(SECRET, stamp, signature, request.body)
    tampered = request.body.replace(b'"severity":2', b'"severity":4')
    assert tampered != request.body
    assert not verify(SECRET, stamp, signature, tampered)
    assert not verify("another secret", stamp, signature, request.body)
    assert not verify(SECRET, str(int(stamp) + 1), signature, request.body)
    assert not verify(SECRET, stamp, "v1=é" + signature[4:], request.body)
    assert not verify(SECRET, None, signature, request.body)


def test_the_docs_recipe_rejects_a_replay_older_than_five_minutes(
    receiver: Receiver, client: httpx.Client
) -> None:
    receiver.respond = answer_like_the_docs
    six_minutes_ago = lambda: time.time() - 360  # noqa: E731
    notifier = SignedWebhookNotifier(client, clock=six_minutes_ago)

    with pytest.raises(DeliveryFailed) as failure:
        notifier.send(a_notification(), webhook_channel(receiver.url))

    assert failure.value.retryable is False  # the receiver said 401
    assert "HTTP 401" in failure.value.message


def test_every_retry_is_signed_afresh_with_the_same_idempotency_key(
    receiver: Receiver, client: httpx.Client
) -> None:
    ticks = iter([1717423331.0, 1717423391.0])
    notifier = SignedWebhookNotifier(client, clock=lambda: next(ticks))
    notifier.send(a_notification(), webhook_channel(receiver.url))
    notifier.send(a_notification(), webhook_channel(receiver.url))

    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert first.headers["X-Warroom-Signature"] != second.headers["X-Warroom-Signature"]


# --- HTTP failures, for both HTTP notifiers --------------------------------------------

HTTP_NOTIFIERS: list[tuple[str, Callable[[httpx.Client], Notifier], Callable[[str], ChannelSpec]]]
HTTP_NOTIFIERS = [
    ("slack", SlackWebhookNotifier, slack_channel),
    ("webhook", SignedWebhookNotifier, webhook_channel),
]


@pytest.mark.parametrize(("kind", "make", "channel"), HTTP_NOTIFIERS)
@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (503, True), (429, True), (408, True), (400, False), (404, False)],
)
def test_server_errors_and_throttling_are_retryable_other_4xx_are_not(
    receiver: Receiver,
    client: httpx.Client,
    kind: str,
    make: Callable[[httpx.Client], Notifier],
    channel: Callable[[str], ChannelSpec],
    status: int,
    retryable: bool,
) -> None:
    receiver.respond = lambda _: (status, {})

    with pytest.raises(DeliveryFailed) as failure:
        make(client).send(a_notification(), channel(receiver.url))

    assert failure.value.retryable is retryable
    assert f"HTTP {status}" in failure.value.message
    assert "SECRETPATH" not in failure.value.message  # the webhook URL is a credential


def test_retry_after_is_passed_along(receiver: Receiver, client: httpx.Client) -> None:
    receiver.respond = lambda _: (429, {"Retry-After": "30"})

    with pytest.raises(DeliveryFailed) as failure:
        SlackWebhookNotifier(client).send(a_notification(), slack_channel(receiver.url))

    assert failure.value.retryable is True
    assert failure.value.retry_after == timedelta(seconds=30)


@pytest.mark.parametrize(("kind", "make", "channel"), HTTP_NOTIFIERS)
def test_a_refused_connection_is_retryable(
    client: httpx.Client,
    kind: str,
    make: Callable[[httpx.Client], Notifier],
    channel: Callable[[str], ChannelSpec],
) -> None:
    url = f"http://127.0.0.1:{free_port()}/hooks/SECRETPATH"

    with pytest.raises(DeliveryFailed) as failure:
        make(client).send(a_notification(), channel(url))

    assert failure.value.retryable is True
    assert "SECRETPATH" not in failure.value.message


def test_a_receiver_too_slow_to_answer_is_retryable(receiver: Receiver) -> None:
    receiver.delay = 0.3
    with httpx.Client(timeout=0.05) as impatient, pytest.raises(DeliveryFailed) as failure:
        SlackWebhookNotifier(impatient).send(a_notification(), slack_channel(receiver.url))
    assert failure.value.retryable is True


# --- Email, to a real SMTP server ------------------------------------------------------


@dataclass
class Mailbox:
    """An aiosmtpd handler: keeps accepted mail, refuses what it is told to."""

    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply is not None:
            return self.data_reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def accept_alice(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"alice", b"pw")
    return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    mailbox: Mailbox
    port: int


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        ready_timeout=5.0,
        authenticator=accept_alice,
        auth_require_tls=False,  # a test server on loopback; production uses STARTTLS
    )
    controller.start()
    try:
        yield SmtpServer(mailbox, port)
    finally:
        controller.stop()


LEADS = ChannelSpec("leadership", "email", ("eng-leads@example.com", "support@example.com"))


def email_notifier(port: int, **options: Any) -> EmailNotifier:
    return EmailNotifier(
        "127.0.0.1", port, "warroom@status.example.com", timeout=2.0,
        local_hostname="localhost", **options,
    )  # fmt: skip


def test_email_arrives_with_the_subject_headers_and_body(smtp: SmtpServer) -> None:
    email_notifier(smtp.port).send(a_notification(), LEADS)

    [(sender, recipients, message)] = smtp.mailbox.messages
    assert sender == "warroom@status.example.com"
    assert recipients == ["eng-leads@example.com", "support@example.com"]
    assert message["Subject"] == "[SEV2] INC-7: Checkout errors in eu-west"
    assert message["To"] == "eng-leads@example.com, support@example.com"
    assert message["X-Warroom-Idempotency-Key"] == "outbox-4812"
    assert message["X-Warroom-Kind"] == "severity_changed"
    assert message["X-Warroom-Incident"] == "INC-7"
    assert message["Message-ID"].endswith(".warroom@status.example.com>")
    assert message.get_content_type() == "text/plain"
    body = message.get_content()
    assert body.startswith("Error ratio 12% and growing.")
    for line in ("Severity: SEV2", "Services: checkout, payments-api", "Commander: alice"):
        assert line in body.splitlines()
    assert "https://warroom.example.com/incidents/INC-7" in body.splitlines()


def test_email_in_any_language_arrives_intact_and_readable(smtp: SmtpServer) -> None:
    n = a_notification(title="Zahlungen in Zürich gestört", text="Fehlerquote 12 % — steigend.")
    email_notifier(smtp.port).send(n, LEADS)

    [(_, _, message)] = smtp.mailbox.messages
    assert message["Subject"] == "[SEV2] INC-7: Zahlungen in Zürich gestört"
    assert message["Content-Transfer-Encoding"] == "quoted-printable"
    assert message.get_content().startswith("Fehlerquote 12 % — steigend.")


def test_a_redelivered_email_has_the_same_message_id(smtp: SmtpServer) -> None:
    notifier = email_notifier(smtp.port)
    notifier.send(a_notification(), LEADS)
    notifier.send(a_notification(), LEADS)
    notifier.send(a_notification(key="outbox-4813"), LEADS)

    ids = [message["Message-ID"] for _, _, message in smtp.mailbox.messages]
    assert ids[0] == ids[1] != ids[2]


def test_email_logs_in_when_given_credentials(smtp: SmtpServer) -> None:
    email_notifier(smtp.port, username="alice", password="pw").send(a_notification(), LEADS)
    assert len(smtp.mailbox.messages) == 1


def test_a_wrong_smtp_password_is_not_retryable(smtp: SmtpServer) -> None:
    notifier = email_notifier(smtp.port, username="alice", password="wrong")
    with pytest.raises(DeliveryFailed) as failure:
        notifier.send(a_notification(), LEADS)
    assert failure.value.retryable is False
    assert "535" in failure.value.message


@pytest.mark.parametrize(
    ("reply", "retryable"),
    [("451 4.3.0 try again later", True), ("554 5.7.1 message rejected", False)],
)
def test_smtp_4xx_is_retryable_and_5xx_is_not(smtp: SmtpServer, reply: str, retryable: bool) -> None:
    smtp.mailbox.data_reply = reply
    with pytest.raises(DeliveryFailed) as failure:
        email_notifier(smtp.port).send(a_notification(), LEADS)
    assert failure.value.retryable is retryable
    assert reply.split()[0] in failure.value.message


@pytest.mark.parametrize(
    ("replies", "retryable"),
    [
        ({"support@example.com": "550 5.1.1 no such user"}, False),
        ({"support@example.com": "452 4.2.2 mailbox full"}, True),
        (
            {
                "support@example.com": "550 5.1.1 no such user",
                "eng-leads@example.com": "450 4.2.1 busy",
            },
            True,
        ),
    ],
)
def test_refused_recipients_fail_the_delivery_and_say_who(
    smtp: SmtpServer, replies: dict[str, str], retryable: bool
) -> None:
    smtp.mailbox.rcpt_replies = replies
    with pytest.raises(DeliveryFailed) as failure:
        email_notifier(smtp.port).send(a_notification(), LEADS)
    assert failure.value.retryable is retryable
    assert "support@example.com" in failure.value.message


def test_an_smtp_server_that_is_not_there_is_retryable() -> None:
    with pytest.raises(DeliveryFailed) as failure:
        email_notifier(free_port()).send(a_notification(), LEADS)
    assert failure.value.retryable is True


def test_starttls_on_a_server_without_it_is_not_retryable(smtp: SmtpServer) -> None:
    with pytest.raises(DeliveryFailed) as failure:
        email_notifier(smtp.port, starttls=True).send(a_notification(), LEADS)
    assert failure.value.retryable is False


def test_a_username_without_a_password_is_refused() -> None:
    with pytest.raises(ValueError):
        EmailNotifier("127.0.0.1", 25, "warroom@example.com", 1.0, username="alice")


# --- Composition and the fake ----------------------------------------------------------


def test_dispatching_sends_with_the_notifier_for_the_channel_type() -> None:
    slack, mail = RecordingNotifier(), RecordingNotifier()
    notifier = DispatchingNotifier({"slack": slack, "email": mail})
    incidents = slack_channel("https://hooks.slack.com/services/T/B/X")

    notifier.send(a_notification(), incidents)
    notifier.send(a_notification(), LEADS)

    assert slack.sent == [(a_notification(), incidents)]
    assert mail.sent == [(a_notification(), LEADS)]
    with pytest.raises(DeliveryFailed) as failure:
        notifier.send(a_notification(), webhook_channel("https://bridge.example.com/"))
    assert failure.value.retryable is False


def test_the_recording_notifier_fails_as_scripted_then_records() -> None:
    fake = RecordingNotifier([DeliveryFailed("down", retryable=True), None])
    channel = slack_channel("https://hooks.slack.com/services/T/B/X")

    with pytest.raises(DeliveryFailed):
        fake.send(a_notification(), channel)
    fake.send(a_notification(key="a"), channel)
    fake.send(a_notification(key="b"), channel)

    assert [n.key for n, _ in fake.attempts] == ["outbox-4812", "a", "b"]
    assert [n.key for n, _ in fake.sent] == ["a", "b"]


# --- The docs cannot drift -------------------------------------------------------------


def test_every_notification_kind_is_documented() -> None:
    docs = DOCS.read_text()
    assert [kind for kind in sorted(NOTIFICATION_KINDS) if f"`{kind}`" not in docs] == []


def test_every_channel_and_route_setting_is_documented() -> None:
    docs = DOCS.read_text()
    route_keys = [f.name for f in fields(Route)]
    channel_keys = ["name", "type", "url", "to", "secret"]
    assert [key for key in route_keys + channel_keys if f"| `{key}` |" not in docs] == []
