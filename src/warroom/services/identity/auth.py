"""API tokens and roles: who may read, write, manage tokens or only post webhooks.

A token is ``wr_`` plus 32 random bytes (URL-safe), shown once when created. Only its
sha256 is stored; authentication looks the hash up and compares it in constant time.
Roles: ``viewer < responder < admin`` for the API and the web room, and ``ingest`` for
webhooks only (an ``ingest`` token may do nothing else; an ``admin`` may also ingest).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from datetime import timedelta
from typing import TYPE_CHECKING

from warroom.domain.shared.errors import NotFound, ValidationError
from warroom.services.ports.identity import TokenInfo
from warroom.services.shared.context import Context

if TYPE_CHECKING:
    from warroom.services.ports.uow import UnitOfWork

__all__ = [
    "RANKED",
    "ROLES",
    "TokenInfo",
    "allows",
    "authenticate",
    "create_token",
    "list_tokens",
    "revoke_token",
]

PREFIX = "wr_"
RANKED = ("viewer", "responder", "admin")
ROLES = (*RANKED, "ingest")
MAX_NAME = 120
MAX_TOKEN = 200
# last_used_at is a hint for people, not an audit log: write it at most once a minute
# per token so reads do not turn into writes.
TOUCH_EVERY = timedelta(minutes=1)
# How long a process may remember a token lookup (the webhooks' cache): a token revoked
# by another process (a replica, or `warroom token revoke` beside a running server) stops
# working there within this time; in the process that revoked it, at once.
REMEMBER_SECONDS = 5.0

_revocations = 0
_revocations_lock = threading.Lock()


def revocations() -> int:
    """How many revocations this process has made: a cache of token lookups taken at an
    older count may hold a token that is no longer live, and must look again."""
    return _revocations


def _revoked() -> None:
    global _revocations
    with _revocations_lock:
        _revocations += 1


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def allows(role: str, need: str) -> bool:
    """Whether a token with ``role`` may do what needs ``need``."""
    if need == "ingest":
        return role in ("ingest", "admin")
    if role not in RANKED or need not in RANKED:
        return False
    return RANKED.index(role) >= RANKED.index(need)


def _check_role(role: str) -> str:
    cleaned = role.strip().lower()
    if cleaned not in ROLES:
        raise ValidationError("role", f"{role!r} is not one of {', '.join(ROLES)}")
    return cleaned


def _check_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise ValidationError("name", "is empty; name the person or system that uses the token")
    if len(cleaned) > MAX_NAME:
        raise ValidationError("name", f"is longer than {MAX_NAME} characters")
    if not cleaned.isprintable():
        raise ValidationError("name", "must not contain control characters")
    if cleaned.isdecimal():
        raise ValidationError("name", "must not be a number (numbers refer to token ids)")
    if " via " in cleaned:
        raise ValidationError("name", "must not contain ' via ' (the timeline writes 'person via service')")
    return cleaned


def _check_source(source: str | None, role: str, name: str) -> str | None:
    """An ingest token's one webhook: ``source``, else the source its name starts with."""
    from warroom.domain.alerts.signals import HOOK_SOURCES

    if source is None or not source.strip():
        if role != "ingest":
            return None
        named = _named_source(name)
        if named is None:
            raise ValidationError(
                "source", f"an ingest token opens one webhook: give --source ({', '.join(HOOK_SOURCES)})"
            )
        return named
    cleaned = source.strip().lower()
    if role != "ingest":
        raise ValidationError(
            "source", f"only an ingest token is bound to a webhook source, not a {role} token"
        )
    if cleaned not in HOOK_SOURCES:
        raise ValidationError("source", f"{source!r} is not one of {', '.join(HOOK_SOURCES)}")
    return cleaned


def _named_source(name: str) -> str | None:
    from warroom.domain.alerts.signals import HOOK_SOURCES

    lowered = name.lower()
    for source in HOOK_SOURCES:
        if lowered == source or lowered.startswith((f"{source}:", f"{source}-")):
            return source
    return None


KINDS = ("service", "personal")


def _check_owner(uow: UnitOfWork, owner: str | None, kind: str, role: str) -> str | None:
    """The owner's handle: a person of the directory; a personal token needs one and may
    not do more than its person's account may."""
    from warroom.domain.oncall.people import require_handle

    if kind not in KINDS:
        raise ValidationError("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    if owner is None or not owner.strip():
        if kind == "personal":
            raise ValidationError(
                "owner", "a personal token acts as its owner: name them (a directory handle)"
            )
        return None
    handle = require_handle(owner, "owner")
    if uow.oncall.person(handle) is None:
        raise ValidationError(
            "owner", f"{handle!r} is not in the directory (warroom user add, or oncall person add)"
        )
    if kind == "personal":
        if role not in RANKED:
            raise ValidationError("role", "a personal token is a person's: viewer, responder or admin")
        account = uow.accounts.get(handle)
        if account is not None and not allows(account.role, role):
            raise ValidationError("role", f"{handle} is a {account.role}: their token may not be {role}")
    return handle


def create_token(
    ctx: Context,
    name: str,
    role: str,
    source: str | None = None,
    *,
    owner: str | None = None,
    kind: str = "service",
) -> tuple[str, TokenInfo]:
    """Create a token; returns the plain secret (show it once, it is not stored) and its info.

    An ingest token opens one webhook, ``/hooks/<source>``: ``source``, or the source its
    name starts with (``alertmanager:prod``); without either it is refused. A personal
    token acts as its ``owner``; a service token may name the person who owns it."""
    name = _check_name(name)
    role = _check_role(role)
    source = _check_source(source, role, name)
    kind = (kind or "service").strip().lower()
    plain = PREFIX + secrets.token_urlsafe(32)
    with ctx.uow() as uow:
        handle = _check_owner(uow, owner, kind, role)
        info = uow.tokens.add(name, role, hash_token(plain), ctx.clock.now(), source, handle, kind)
        uow.commit()
    return plain, info


def actor_of(info: TokenInfo) -> str:
    """Who the timeline names for what the token does: a personal token's person; a
    service token's name, as ``owner via name`` when it has an owner."""
    if info.kind == "personal" and info.owner:
        return info.owner
    if info.owner:
        return f"{info.owner} via {info.name}"
    return info.name


def authenticate(ctx: Context, plain: str) -> TokenInfo | None:
    """The live token whose secret is ``plain``; None for unknown, malformed or revoked ones."""
    if not plain or len(plain) > MAX_TOKEN or not plain.startswith(PREFIX):
        return None
    wanted = hash_token(plain)
    with ctx.uow() as uow:
        found = uow.tokens.by_hash(wanted)
        if found is None:
            return None
        info, stored = found
        if not hmac.compare_digest(stored, wanted) or info.revoked_at is not None:
            return None
        now = ctx.clock.now()
        if info.last_used_at is None or now - info.last_used_at >= TOUCH_EVERY:
            uow.tokens.touch(info.id, now)
            uow.commit()
    return info


def list_tokens(ctx: Context) -> list[TokenInfo]:
    with ctx.read() as uow:
        return uow.tokens.all()


def find_token(ctx: Context, name_or_id: str | int) -> TokenInfo:
    """A token by its name or its numeric id; raises ``NotFound``."""
    text = str(name_or_id).strip()
    with ctx.read() as uow:
        info = uow.tokens.by_name(text)
        if info is None and text.isascii() and text.isdecimal() and len(text) < 10:
            info = uow.tokens.by_id(int(text))
    if info is None:
        raise NotFound(f"no token {text!r}")
    return info


def revoke_token(ctx: Context, name_or_id: str | int) -> TokenInfo:
    """Revoke a token by name or id; revoking twice keeps the first revocation time.

    The token stops working at once in this process (its remembered lookups are dropped)
    and within :data:`REMEMBER_SECONDS` in every other process on the same database."""
    info = find_token(ctx, name_or_id)
    with ctx.uow() as uow:
        uow.tokens.revoke(info.id, ctx.clock.now())
        revoked = uow.tokens.by_id(info.id)
        uow.commit()
    _revoked()  # this process's remembered lookups are stale from now on
    assert revoked is not None
    return revoked


def bound_source(info: TokenInfo) -> str | None:
    """The one webhook an ingest token opens (None for other roles, and for an ingest
    token stored before sources were recorded whose name names none: it opens nothing).

    Recorded at creation; older tokens are bound by their name, as at creation."""
    if info.role != "ingest":
        return None
    return info.source if info.source is not None else _named_source(info.name)


def token_view(info: TokenInfo) -> dict[str, object]:
    """The JSON shape of a token for the CLI and the API (no secret, no hash)."""
    from warroom.domain.shared.timefmt import iso

    return {
        "id": info.id,
        "name": info.name,
        "role": info.role,
        "source": bound_source(info),
        "kind": info.kind,
        "owner": info.owner,
        "created_at": iso(info.created_at),
        "revoked_at": iso(info.revoked_at) if info.revoked_at else None,
        "last_used_at": iso(info.last_used_at) if info.last_used_at else None,
        "active": info.revoked_at is None,
    }
