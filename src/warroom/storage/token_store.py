"""API tokens by hash: the secret itself never reaches the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from warroom.domain.shared.errors import ValidationError
from warroom.services.ports.identity import IntegrationKeyInfo, TokenInfo
from warroom.storage.queries import SqlReads
from warroom.storage.reads import TokenReads
from warroom.storage.tables import integration_keys, tokens

_COLUMNS = (
    tokens.c.id,
    tokens.c.name,
    tokens.c.role,
    tokens.c.created_at,
    tokens.c.revoked_at,
    tokens.c.last_used_at,
    tokens.c.source,
    tokens.c.owner,
    tokens.c.kind,
)


_KEY_COLUMNS = (
    integration_keys.c.id.label("key_id"),
    integration_keys.c.token_id,
    integration_keys.c.hint,
    integration_keys.c.service,
    integration_keys.c.created_at.label("key_created_at"),
)


def _key(row: Any) -> IntegrationKeyInfo:
    return IntegrationKeyInfo(
        id=row.key_id,
        token_id=row.token_id,
        hint=row.hint,
        service=row.service,
        created_at=row.key_created_at,
    )


def _info(row: Any) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        name=row.name,
        role=row.role,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        source=row.source,
        owner=row.owner,
        kind=row.kind or "service",
    )


class SqlTokenStore(SqlReads, TokenReads):
    """Tokens by hash; ``all`` is a read of ``storage.reads`` (``TokenReads``), which the
    CLI's cold path shares on SQLite."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(
        self,
        name: str,
        role: str,
        token_hash: str,
        created_at: datetime,
        source: str | None = None,
        owner: str | None = None,
        kind: str = "service",
    ) -> TokenInfo:
        try:
            with self._db.begin_nested():
                result = self._db.execute(
                    insert(tokens)
                    .values(
                        name=name,
                        role=role,
                        hash=token_hash,
                        created_at=created_at,
                        source=source,
                        owner=owner,
                        kind=kind,
                    )
                    .returning(tokens.c.id)
                )
                token_id = int(result.scalar_one())
        except IntegrityError:
            raise ValidationError("name", f"a token named {name!r} already exists") from None
        return TokenInfo(
            id=token_id, name=name, role=role, created_at=created_at, source=source, owner=owner, kind=kind
        )

    def by_hash(self, token_hash: str) -> tuple[TokenInfo, str] | None:
        row = self._db.execute(select(*_COLUMNS, tokens.c.hash).where(tokens.c.hash == token_hash)).first()
        return None if row is None else (_info(row), str(row.hash))

    def by_name(self, name: str) -> TokenInfo | None:
        row = self._db.execute(select(*_COLUMNS).where(tokens.c.name == name)).first()
        return None if row is None else _info(row)

    def by_id(self, token_id: int) -> TokenInfo | None:
        row = self._db.execute(select(*_COLUMNS).where(tokens.c.id == token_id)).first()
        return None if row is None else _info(row)

    def revoke(self, token_id: int, at: datetime) -> None:
        self._db.execute(
            update(tokens).where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None)).values(revoked_at=at)
        )

    def touch(self, token_id: int, at: datetime) -> None:
        self._db.execute(update(tokens).where(tokens.c.id == token_id).values(last_used_at=at))

    def add_integration_keys(
        self, token_id: int, keys: list[tuple[str, str, str | None]], created_at: datetime
    ) -> list[IntegrationKeyInfo]:
        added = []
        for key_hash, hint, service in keys:
            try:
                with self._db.begin_nested():
                    result = self._db.execute(
                        insert(integration_keys)
                        .values(
                            token_id=token_id,
                            hash=key_hash,
                            hint=hint,
                            service=service,
                            created_at=created_at,
                        )
                        .returning(integration_keys.c.id)
                    )
                    key_id = int(result.scalar_one())
            except IntegrityError:
                raise ValidationError(
                    "integration_key", f"the key ending in {hint} is already stored (keys are unique)"
                ) from None
            added.append(IntegrationKeyInfo(key_id, token_id, hint, service, created_at))
        return added

    def by_integration_key_hash(self, key_hash: str) -> tuple[TokenInfo, IntegrationKeyInfo, str] | None:
        row = self._db.execute(
            select(*_COLUMNS, *_KEY_COLUMNS, integration_keys.c.hash.label("key_hash"))
            .join(tokens, tokens.c.id == integration_keys.c.token_id)
            .where(integration_keys.c.hash == key_hash)
        ).first()
        return None if row is None else (_info(row), _key(row), str(row.key_hash))

    def integration_keys(self) -> list[IntegrationKeyInfo]:
        rows = self._db.execute(
            select(*_KEY_COLUMNS).order_by(integration_keys.c.token_id, integration_keys.c.id)
        )
        return [_key(row) for row in rows]
