"""Web sessions: a random secret in the browser's signed cookie, only its sha256 stored;
it expires after :data:`SESSION_HOURS`, ends at sign-out and can be revoked."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from warroom.services.identity.credentials import MAX_SECRET, digest
from warroom.services.ports.identity import Account, WebSession
from warroom.services.shared.context import Context

SESSION_PREFIX = "wss_"
SESSION_HOURS = 12
MAX_ADDRESS = 64


def address_of(address: str | None) -> str:
    return (address or "unknown")[:MAX_ADDRESS]


def open_session(ctx: Context, account: Account, address: str, now: datetime, step: int | None = None) -> str:
    """A new session's secret; the account's failures reset (and ``step``, the TOTP step
    just used, is remembered so its code is not accepted twice)."""
    secret = SESSION_PREFIX + secrets.token_urlsafe(32)
    with ctx.uow() as uow:
        current = uow.accounts.get(account.handle) or account
        uow.accounts.save(
            replace(current, failures=0, totp_last_step=step if step is not None else current.totp_last_step)
        )
        uow.accounts.add_session(
            digest(secret), account.handle, address, now, now + timedelta(hours=SESSION_HOURS)
        )
        uow.commit()
    return secret


def start_session(ctx: Context, account: Account, address: str | None) -> str:
    """A new session for ``account`` signed in elsewhere (OpenID Connect): its secret."""
    return open_session(ctx, account, address_of(address), ctx.clock.now())


def session_of(ctx: Context, secret: str) -> tuple[WebSession, Account] | None:
    """The live session whose secret is ``secret`` and its account (not locked)."""
    if not secret or len(secret) > MAX_SECRET or not secret.startswith(SESSION_PREFIX):
        return None
    with ctx.read() as uow:
        found = uow.accounts.session_by_hash(digest(secret))
        if found is None or not found.live(ctx.clock.now()):
            return None
        account = uow.accounts.get(found.handle)
    if account is None or account.locked_at is not None or account.password_hash is None:
        return None
    return found, account


def end_session(ctx: Context, secret: str) -> None:
    found = session_of(ctx, secret)
    if found is not None:
        revoke_session(ctx, found[0].id)


def sessions(ctx: Context, handle: str | None = None) -> list[WebSession]:
    with ctx.read() as uow:
        return uow.accounts.sessions(handle, ctx.clock.now())


def revoke_session(ctx: Context, session_id: int) -> bool:
    with ctx.uow() as uow:
        done = uow.accounts.revoke_session(session_id, ctx.clock.now())
        uow.commit()
    return done


def session_view(found: WebSession) -> dict[str, object]:
    from warroom.domain.shared.timefmt import iso

    return {
        "id": found.id,
        "handle": found.handle,
        "address": found.address,
        "created_at": iso(found.created_at),
        "expires_at": iso(found.expires_at),
    }
