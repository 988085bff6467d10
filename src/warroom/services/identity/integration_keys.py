"""PagerDuty-shaped integration keys: the ``routing_key`` of an Events API v2 body as a credential.

PagerDuty's clients send no header: the integration key in the body is their only
credential. An ingest token for ``pagerduty`` can carry one or more such keys (32 letters
and digits, generated here or imported from PagerDuty), each routing its events to a
service. Like tokens, only a key's sha256 is stored, plus its last four characters
(``hint``) so listings can tell keys apart; a key is shown in full once, when generated.
A revoked token's keys stop working at once (key lookups are not cached).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from warroom.domain.shared.errors import ValidationError
from warroom.domain.shared.text import require_text
from warroom.services.identity import auth
from warroom.services.ports.identity import IntegrationKeyInfo, TokenInfo
from warroom.services.shared.context import Context

KEY_LENGTH = 32
MAX_SERVICE = 100
SOURCE = "pagerduty"


@dataclass(frozen=True)
class KeyCaller:
    """Who sent an event with a known integration key: the token that carries it, and the key."""

    token: TokenInfo
    key: IntegrationKeyInfo

    @property
    def service(self) -> str | None:
        return self.key.service


def new_key() -> str:
    """A fresh key shaped like PagerDuty's: 32 lowercase hex characters (128 random bits)."""
    return secrets.token_hex(KEY_LENGTH // 2)


def is_key_shaped(text: str) -> bool:
    return len(text) == KEY_LENGTH and text.isascii() and text.isalnum()


def masked(hint: str) -> str:
    """How a key is listed: its last four characters only."""
    return "****" + hint


def parse_key_spec(spec: str) -> tuple[str, str | None]:
    """``KEY`` or ``SERVICE=KEY`` (as ``--integration-key`` takes it) into ``(key, service)``."""
    service, equals, key = spec.strip().rpartition("=")
    key = key.strip()
    if not is_key_shaped(key):
        raise ValidationError(
            "integration_key",
            f"must be {KEY_LENGTH} letters and digits, as PagerDuty's integration keys are "
            f"(got {len(key)} characters ending in {key[-4:]!r})",
        )
    return key, (service.strip() or None) if equals else None


def _service(service: str | None) -> str | None:
    if service is None or not service.strip():
        return None
    return require_text(service, "service", limit=MAX_SERVICE)


def create_with_keys(
    ctx: Context,
    name: str,
    *,
    keys: Sequence[tuple[str, str | None]] = (),
    generate: int = 0,
    service: str | None = None,
) -> tuple[str, TokenInfo, list[tuple[str | None, IntegrationKeyInfo]]]:
    """Create an ingest token for ``/hooks/pagerduty`` carrying integration keys, in one transaction.

    ``keys`` are imported ``(key, service)`` pairs; ``generate`` more are made here. A key
    without its own service routes to ``service`` (None: the events' labels route them).
    Returns the token's secret, its info and each key with its plain text when generated
    here (shown once), None when imported (the caller already has it)."""
    name = auth._check_name(name)
    default = _service(service)
    wanted: list[tuple[str, str | None, bool]] = []
    for key, own in keys:
        if not is_key_shaped(key):
            raise ValidationError("integration_key", f"must be {KEY_LENGTH} letters and digits")
        wanted.append((key, _service(own) or default, False))
    wanted += [(new_key(), default, True) for _ in range(generate)]
    if not wanted:
        raise ValidationError("integration_key", "give at least one key to import, or generate one")
    if len({key for key, _, _ in wanted}) != len(wanted):
        raise ValidationError("integration_key", "the same key is given twice")
    plain = auth.PREFIX + secrets.token_urlsafe(32)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        info = uow.tokens.add(name, "ingest", auth.hash_token(plain), now, SOURCE)
        stored = uow.tokens.add_integration_keys(
            info.id, [(auth.hash_token(key), key[-4:], svc) for key, svc, _ in wanted], now
        )
        uow.commit()
    shown = [(key if generated else None) for key, _, generated in wanted]
    return plain, info, list(zip(shown, stored, strict=True))


def authenticate_key(ctx: Context, routing_key: str) -> KeyCaller | None:
    """The live ingest token carrying ``routing_key`` and the key; None when unknown, revoked or
    not a key at all."""
    if not is_key_shaped(routing_key):
        return None
    wanted = auth.hash_token(routing_key)
    with ctx.uow() as uow:
        found = uow.tokens.by_integration_key_hash(wanted)
        if found is None:
            return None
        token, key, stored = found
        if not hmac.compare_digest(stored, wanted) or token.revoked_at is not None:
            return None
        if auth.bound_source(token) != SOURCE:
            return None
        now = ctx.clock.now()
        if token.last_used_at is None or now - token.last_used_at >= auth.TOUCH_EVERY:
            uow.tokens.touch(token.id, now)
            uow.commit()
    return KeyCaller(token, key)


def key_view(key: IntegrationKeyInfo) -> dict[str, object]:
    from warroom.domain.shared.timefmt import iso

    return {"key": masked(key.hint), "service": key.service, "created_at": iso(key.created_at)}


def token_views(ctx: Context) -> list[dict[str, object]]:
    """Every token as :func:`auth.token_view` shows it, plus its integration keys (masked)."""
    with ctx.read() as uow:
        tokens = uow.tokens.all()
        keys = uow.tokens.integration_keys()
    by_token: dict[int, list[dict[str, object]]] = {}
    for key in keys:
        by_token.setdefault(key.token_id, []).append(key_view(key))
    return [auth.token_view(t) | {"integration_keys": by_token.get(t.id, [])} for t in tokens]
