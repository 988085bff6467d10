"""``warroom login --url``: a device-code sign-in for the CLI (as RFC 8628 describes).

The CLI asks for a login and gets a device code (kept by the CLI; only its sha256 is
stored) and a short user code it shows with the URL of ``/device``. The person, signed in
to the web, types the user code and approves; the CLI's next poll with its device code
receives a new personal token of that person, once. Codes expire after
:data:`LIFETIME`; no token ever appears on a command line.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from warroom.domain.shared.errors import NotFound, ValidationError
from warroom.services.identity import auth
from warroom.services.shared.context import Context

LIFETIME = timedelta(minutes=10)
INTERVAL_SECONDS = 2
ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # no vowels (no words), no look-alike digits
DEVICE_PREFIX = "wdc_"
MAX_CODE = 200


@dataclass(frozen=True)
class DeviceStart:
    device_code: str
    user_code: str
    expires_at: datetime
    interval: int = INTERVAL_SECONDS


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _user_code() -> str:
    letters = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{letters[:4]}-{letters[4:]}"


def normalize(code: str) -> str:
    """``bcdf ghjk``, ``BCDFGHJK`` and ``BCDF-GHJK`` are the same code."""
    letters = "".join(c for c in (code or "")[:MAX_CODE].upper() if c.isascii() and c.isalpha())
    return f"{letters[:4]}-{letters[4:]}" if len(letters) == 8 else ""


def start(ctx: Context) -> DeviceStart:
    device_code = DEVICE_PREFIX + secrets.token_urlsafe(32)
    now = ctx.clock.now()
    user_code = _user_code()
    with ctx.uow() as uow:
        uow.accounts.add_device(_digest(device_code), user_code, now, now + LIFETIME)
        uow.commit()
    return DeviceStart(device_code, user_code, now + LIFETIME)


def approve(ctx: Context, user_code: str, handle: str) -> None:
    """The person ``handle`` approves the login showing ``user_code``."""
    code = normalize(user_code)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        found = uow.accounts.device_by_code(code) if code else None
        if found is None or now >= found.expires_at or found.approved_by is not None:
            raise ValidationError("code", "unknown, expired or already approved: run warroom login again")
        uow.accounts.approve_device(found.id, handle)
        uow.commit()


def redeem(ctx: Context, device_code: str) -> str | None:
    """The personal token once approved (None while pending); ``NotFound`` for unknown,
    expired or already redeemed device codes."""
    gone = NotFound("this login is unknown, expired or already used: run warroom login again")
    if not device_code or len(device_code) > MAX_CODE or not device_code.startswith(DEVICE_PREFIX):
        raise gone
    now = ctx.clock.now()
    with ctx.read() as uow:
        found = uow.accounts.device_by_hash(_digest(device_code))
        account = uow.accounts.get(found.approved_by) if found and found.approved_by else None
    if found is None or found.token_id is not None or now >= found.expires_at:
        raise gone
    if found.approved_by is None:
        return None
    role = account.role if account is not None else "viewer"
    name = f"cli:{found.approved_by}:{found.user_code}"
    plain, info = auth.create_token(ctx, name, role, owner=found.approved_by, kind="personal")
    with ctx.uow() as uow:
        redeemed = uow.accounts.device_redeemed(found.id, info.id)
        uow.commit()
    if not redeemed:  # a concurrent poll got there first: this secret is never shown
        auth.revoke_token(ctx, info.id)
        raise gone
    return plain
