"""Deliver to every push, chat and SMS service Apprise knows, by URL (``ntfy://``,
``pover://``, ``tgram://``, ``matrix://``, ``msteams://``, ``discord://``, ``twilio://``,
``json://`` ...): one adapter instead of a client per provider.

Apprise says only whether a send worked, not why, so a refusal is retried (the outbox's
retry policy bounds the attempts) unless Apprise does not understand the URL at all. The
URL holds the service's credentials: no message names it.
"""

from __future__ import annotations

from warroom.domain.comms.notifications import ChannelSpec, DeliveryFailed, Notification


def _body(n: Notification) -> str:
    lines = [n.text]
    lines += [f"{name}: {value}" for name, value in n.fields if name != "acknowledge"]
    if n.url:
        lines.append(n.url)
    return "\n".join(line for line in lines if line)


def preload() -> None:
    """Import Apprise and load its plugins ahead of the first page: both take about two
    seconds on a busy 2-core machine, which the first notification would otherwise wait
    for. Nothing is sent."""
    import apprise

    apprise.Apprise().add("json://localhost")


class AppriseNotifier:
    def send(self, n: Notification, channel: ChannelSpec) -> None:
        import apprise

        scheme = channel.url.split("://", 1)[0]
        sender = apprise.Apprise()
        if not sender.add(channel.url):
            raise DeliveryFailed(
                f"channel {channel.name}: Apprise does not support this {scheme}:// URL", retryable=False
            )
        if not sender.notify(title=n.headline, body=_body(n)):
            raise DeliveryFailed(
                f"channel {channel.name}: the {scheme} service did not accept the notification",
                retryable=True,
            )
