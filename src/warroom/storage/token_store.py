"""API tokens by hash: the secret itself never reaches the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from warroom.domain.shared.errors import ValidationError
from warroom.services.ports.identity import TokenInfo
from warroom.storage.tables import tokens

_COLUMNS = (
    tokens.c.id,
    tokens.c.name,
    tokens.c.role,
    tokens.c.created_at,
    tokens.c.revoked_at,
    tokens.c.last_used_at,
    tokens.c.source,
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
    )


class SqlTokenStore:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(
        self, name: str, role: str, token_hash: str, created_at: datetime, source: str | None = None
    ) -> TokenInfo:
        try:
            with self._db.begin_nested():
                result = self._db.execute(
                    insert(tokens)
                    .values(name=name, role=role, hash=token_hash, created_at=created_at, source=source)
                    .returning(tokens.c.id)
                )
                token_id = int(result.scalar_one())
        except IntegrityError:
            raise ValidationError("name", f"a token named {name!r} already exists") from None
        return TokenInfo(id=token_id, name=name, role=role, created_at=created_at, source=source)

    def by_hash(self, token_hash: str) -> tuple[TokenInfo, str] | None:
        row = self._db.execute(select(*_COLUMNS, tokens.c.hash).where(tokens.c.hash == token_hash)).first()
        return None if row is None else (_info(row), str(row.hash))

    def by_name(self, name: str) -> TokenInfo | None:
        row = self._db.execute(select(*_COLUMNS).where(tokens.c.name == name)).first()
        return None if row is None else _info(row)

    def by_id(self, token_id: int) -> TokenInfo | None:
        row = self._db.execute(select(*_COLUMNS).where(tokens.c.id == token_id)).first()
        return None if row is None else _info(row)

    def all(self) -> list[TokenInfo]:
        return [_info(row) for row in self._db.execute(select(*_COLUMNS).order_by(tokens.c.id))]

    def revoke(self, token_id: int, at: datetime) -> None:
        self._db.execute(
            update(tokens).where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None)).values(revoked_at=at)
        )

    def touch(self, token_id: int, at: datetime) -> None:
        self._db.execute(update(tokens).where(tokens.c.id == token_id).values(last_used_at=at))
