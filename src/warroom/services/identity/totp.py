"""The second factor: TOTP (RFC 6238) through ``pyotp``; enrolment is begun, then
confirmed with a code of the new secret; a code is accepted once."""

from __future__ import annotations

import hmac
from dataclasses import replace
from datetime import datetime, timedelta

from warroom.domain.oncall.people import require_handle
from warroom.domain.shared.errors import ValidationError
from warroom.services.identity.credentials import account_of
from warroom.services.shared.context import Context


def totp_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    """The time step ``code`` is valid for (this one or a neighbour), never one at or
    before ``after`` (a code is accepted once)."""
    import pyotp

    code = (code or "").strip().replace(" ", "")
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    for drift in (0, -1, 1):
        at = now + timedelta(seconds=drift * totp.interval)
        step = int(totp.timecode(at))
        if (after is None or step > after) and hmac.compare_digest(totp.at(at), code):
            return step
    return None


def begin_totp(ctx: Context, handle: str) -> tuple[str, str]:
    """A new second-factor secret for ``handle`` to confirm; returns it and its
    ``otpauth://`` URI (shown once, for the authenticator app)."""
    import pyotp

    secret = pyotp.random_base32()
    with ctx.uow() as uow:
        account = account_of(uow.accounts, handle)
        uow.accounts.save(replace(account, totp_pending=secret))
        uow.commit()
    return secret, pyotp.TOTP(secret).provisioning_uri(name=handle, issuer_name="warroom")


def confirm_totp(ctx: Context, handle: str, code: str) -> None:
    """Turn the pending secret on when ``code`` comes from it."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        account = account_of(uow.accounts, handle)
        if not account.totp_pending:
            raise ValidationError("code", "start the enrolment first")
        step = totp_step(account.totp_pending, code, now, None)
        if step is None:
            raise ValidationError("code", "that is not the current code of the new secret: try the next one")
        uow.accounts.save(
            replace(account, totp_secret=account.totp_pending, totp_pending=None, totp_last_step=step)
        )
        uow.commit()


def reset_totp(ctx: Context, handle: str) -> None:
    """Turn the second factor off (an admin, for a lost phone)."""
    with ctx.uow() as uow:
        account = account_of(uow.accounts, require_handle(handle))
        uow.accounts.save(replace(account, totp_secret=None, totp_pending=None, totp_last_step=None))
        uow.commit()
