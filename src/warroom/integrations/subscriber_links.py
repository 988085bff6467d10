"""Signed, expiring links for status-page subscribers (itsdangerous), and the DNS check of
a subscriber's webhook URL.

A token holds the subscriber's id, what it is for (``confirm`` or ``unsubscribe``) and a
short digest of the address or URL, signed with ``secret_key`` under a salt of its own
per purpose: a confirm token cannot unsubscribe, a token for a removed subscriber cannot
touch a later one that got the same id, an altered one fails the signature and an old
one its age.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import time
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from warroom.domain.comms.subscribers import forbidden_address
from warroom.domain.shared.errors import ValidationError

PURPOSES = ("confirm", "unsubscribe")
WORDS = {"confirm": "confirmation", "unsubscribe": "unsubscribe"}


class SignedSubscriberLinks:
    """``clock`` (unix seconds) stamps new tokens; tests pass an old one to make expired links."""

    def __init__(
        self,
        secret: str,
        *,
        confirm_max_age: timedelta = timedelta(hours=48),
        unsubscribe_max_age: timedelta = timedelta(days=365),
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise ValueError("subscriber links need a secret key")

        class Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock())

        self._serializers = {
            purpose: URLSafeTimedSerializer(secret, salt=f"warroom.status.{purpose}", signer=Signer)
            for purpose in PURPOSES
        }
        self._max_age = {
            "confirm": int(confirm_max_age.total_seconds()),
            "unsubscribe": int(unsubscribe_max_age.total_seconds()),
        }
        self._secret = secret

    def digest(self, target: str) -> str:
        return hashlib.sha256(f"{self._secret}:{target}".encode()).hexdigest()[:16]

    def sign(self, purpose: str, subscriber_id: int, target: str) -> str:
        return str(self._serializers[purpose].dumps([subscriber_id, self.digest(target)]))

    def verify(self, purpose: str, token: str) -> tuple[int, str]:
        word = WORDS[purpose]
        if not token or len(token) > 500:
            raise ValidationError("token", f"this {word} link is not valid (it was cut short or altered)")
        try:
            subscriber_id, digest = self._serializers[purpose].loads(token, max_age=self._max_age[purpose])
        except SignatureExpired:
            again = "subscribe again" if purpose == "confirm" else "use the link in a newer mail"
            raise ValidationError("token", f"this {word} link has expired; {again}") from None
        except (BadSignature, ValueError, TypeError):
            raise ValidationError(
                "token", f"this {word} link is not valid (it was altered or not made here)"
            ) from None
        if (
            not isinstance(subscriber_id, int)
            or isinstance(subscriber_id, bool)
            or not isinstance(digest, str)
        ):
            raise ValidationError("token", f"this {word} link is not valid")
        return subscriber_id, digest


def resolving_guard(allow_private: bool = False) -> Callable[[str], None]:
    """A check that a webhook URL's host resolves only to public addresses (loopback,
    private, link-local and reserved ones are refused), unless ``allow_private``."""

    def check(url: str) -> None:
        if allow_private:
            return
        host = urlsplit(url).hostname or ""
        try:
            found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            raise ValidationError("url", f"the webhook host {host[:100]} does not resolve") from None
        for *_, sockaddr in found:
            forbidden_address(ipaddress.ip_address(sockaddr[0]))

    return check
