"""Signed, expiring links that acknowledge a page without a login (itsdangerous).

The token holds the page and the person it was sent to, signed with ``secret_key``; it is
good for ``max_age`` and for nothing else (its salt differs from the session cookie's).
A forged or altered token fails the signature; an old one fails the age.
"""

from __future__ import annotations

from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from warroom.domain.shared.errors import ValidationError

SALT = "warroom.oncall.ack"


class SignedAckLinks:
    def __init__(self, secret: str, max_age: timedelta = timedelta(hours=24)) -> None:
        if not secret:
            raise ValueError("ack links need a secret key")
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT)
        self._max_age = int(max_age.total_seconds())

    def sign(self, page_id: int, person: str) -> str:
        return str(self._serializer.dumps([page_id, person]))

    def verify(self, token: str) -> tuple[int, str]:
        try:
            page_id, person = self._serializer.loads(token, max_age=self._max_age)
        except SignatureExpired:
            raise ValidationError(
                "token", "this acknowledgement link has expired; acknowledge in warroom instead"
            ) from None
        except (BadSignature, ValueError, TypeError):
            raise ValidationError(
                "token", "this acknowledgement link is not valid (it was altered or not made here)"
            ) from None
        if not isinstance(page_id, int) or not isinstance(person, str):
            raise ValidationError("token", "this acknowledgement link is not valid")
        return page_id, person


FEED_SALT = "warroom.oncall.feed"


class SignedFeedLinks:
    """Unexpiring tokens for calendar feeds (``("schedule", name)`` or ``("person", handle)``):
    calendar apps cannot send a bearer token, so the URL is the credential. Changing
    ``secret_key`` revokes every feed URL."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("feed links need a secret key")
        self._serializer = URLSafeSerializer(secret, salt=FEED_SALT)

    def sign(self, kind: str, name: str) -> str:
        return str(self._serializer.dumps([kind, name]))

    def verify(self, token: str) -> tuple[str, str]:
        try:
            kind, name = self._serializer.loads(token)
        except (BadSignature, ValueError, TypeError):
            raise ValidationError(
                "token", "this calendar link is not valid (it was altered or not made here)"
            ) from None
        if kind not in ("schedule", "person") or not isinstance(name, str):
            raise ValidationError("token", "this calendar link is not valid")
        return kind, name
