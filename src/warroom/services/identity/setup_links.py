"""One-time setup links: ``/setup/<secret>`` lets a person choose a password. Only the
secret's sha256 is stored; it expires after :data:`SETUP_HOURS` and works once."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from warroom.domain.oncall.people import require_handle
from warroom.domain.shared.errors import NotFound, ValidationError
from warroom.services.identity.credentials import MAX_SECRET, account_of, check_password, digest, hasher
from warroom.services.ports.identity import Account
from warroom.services.shared.context import Context

SETUP_PREFIX = "wsu_"
SETUP_HOURS = 72


def new_setup_secret(now: datetime) -> tuple[str, str, datetime]:
    """A fresh setup secret, the digest to store and when it expires."""
    secret = SETUP_PREFIX + secrets.token_urlsafe(32)
    return secret, digest(secret), now + timedelta(hours=SETUP_HOURS)


def new_setup_link(ctx: Context, handle: str) -> str:
    """A fresh one-time setup secret for ``handle`` (a forgotten password); the password
    stays valid until the link is used."""
    handle = require_handle(handle)
    secret, setup_hash, expires = new_setup_secret(ctx.clock.now())
    with ctx.uow() as uow:
        account = account_of(uow.accounts, handle)
        uow.accounts.save(replace(account, setup_hash=setup_hash, setup_expires_at=expires))
        uow.commit()
    return secret


def setup_account(ctx: Context, secret: str) -> Account:
    """The account a live setup secret opens; raises ``NotFound`` for unknown, used or
    expired ones (the same answer for all three)."""
    gone = NotFound("this setup link is unknown, used or expired: ask an admin for a new one")
    if not secret or len(secret) > MAX_SECRET or not secret.startswith(SETUP_PREFIX):
        raise gone
    with ctx.read() as uow:
        account = uow.accounts.by_setup_hash(digest(secret))
    if account is None or account.setup_expires_at is None or ctx.clock.now() >= account.setup_expires_at:
        raise gone
    return account


def set_password(ctx: Context, secret: str, password: str, again: str) -> Account:
    """Use the setup secret: store the password's argon2 hash, unlock the account and end
    its other sessions. The link works once."""
    setup_account(ctx, secret)  # unknown, used and expired links are refused before any hashing
    check_password(password)
    if not hmac.compare_digest(
        password.encode("utf-8", "surrogatepass"), again.encode("utf-8", "surrogatepass")
    ):
        raise ValidationError("again", "the two passwords differ")
    hashed = hasher(ctx.password_profile).hash(password)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        current = uow.accounts.by_setup_hash(digest(secret))
        if current is None:  # used by a concurrent request
            raise NotFound("this setup link was just used")
        done = replace(
            current, password_hash=hashed, setup_hash=None, setup_expires_at=None, failures=0, locked_at=None
        )
        uow.accounts.save(done)
        uow.accounts.revoke_sessions_of(done.handle, now)
        uow.commit()
    return done
