"""Local accounts, their server-side web sessions and the refused sign-ins the rate
limits count (``identity_tables.py``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from warroom.domain.shared.errors import ValidationError
from warroom.services.ports.identity import Account, DeviceLogin, WebSession
from warroom.storage.identity_tables import account_sessions, accounts, device_logins, login_failures

_SESSION_COLUMNS = (
    account_sessions.c.id,
    account_sessions.c.handle,
    account_sessions.c.address,
    account_sessions.c.created_at,
    account_sessions.c.expires_at,
    account_sessions.c.revoked_at,
)


def _account(row: Any) -> Account:
    return Account(**row._asdict())


def _session(row: Any) -> WebSession:
    return WebSession(**row._asdict())


class SqlAccountStore:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(self, account: Account) -> None:
        try:
            with self._db.begin_nested():
                self._db.execute(insert(accounts).values(**asdict(account)))
        except IntegrityError:
            raise ValidationError("handle", f"{account.handle!r} already has an account") from None

    def get(self, handle: str) -> Account | None:
        row = self._db.execute(select(accounts).where(accounts.c.handle == handle)).first()
        return None if row is None else _account(row)

    def by_setup_hash(self, setup_hash: str) -> Account | None:
        row = self._db.execute(select(accounts).where(accounts.c.setup_hash == setup_hash)).first()
        return None if row is None else _account(row)

    def all(self) -> list[Account]:
        return [_account(row) for row in self._db.execute(select(accounts).order_by(accounts.c.handle))]

    def save(self, account: Account) -> None:
        values = asdict(account)
        handle = values.pop("handle")
        self._db.execute(update(accounts).where(accounts.c.handle == handle).values(**values))

    def add_session(
        self, session_hash: str, handle: str, address: str, at: datetime, expires_at: datetime
    ) -> int:
        result = self._db.execute(
            insert(account_sessions)
            .values(hash=session_hash, handle=handle, address=address, created_at=at, expires_at=expires_at)
            .returning(account_sessions.c.id)
        )
        return int(result.scalar_one())

    def session_by_hash(self, session_hash: str) -> WebSession | None:
        row = self._db.execute(
            select(*_SESSION_COLUMNS).where(account_sessions.c.hash == session_hash)
        ).first()
        return None if row is None else _session(row)

    def sessions(self, handle: str | None, now: datetime) -> list[WebSession]:
        query = select(*_SESSION_COLUMNS).where(
            account_sessions.c.revoked_at.is_(None), account_sessions.c.expires_at > now
        )
        if handle is not None:
            query = query.where(account_sessions.c.handle == handle)
        return [_session(row) for row in self._db.execute(query.order_by(account_sessions.c.id))]

    def revoke_session(self, session_id: int, at: datetime) -> bool:
        result = self._db.execute(
            update(account_sessions)
            .where(account_sessions.c.id == session_id, account_sessions.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(result.rowcount)

    def revoke_sessions_of(self, handle: str, at: datetime) -> int:
        result = self._db.execute(
            update(account_sessions)
            .where(account_sessions.c.handle == handle, account_sessions.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return int(result.rowcount)

    def add_failure(self, handle: str, address: str, at: datetime) -> None:
        self._db.execute(insert(login_failures).values(handle=handle, address=address, at=at))

    def failures_since(
        self, *, handle: str | None = None, address: str | None = None, since: datetime
    ) -> int:
        query = select(func.count()).select_from(login_failures).where(login_failures.c.at >= since)
        if handle is not None:
            query = query.where(login_failures.c.handle == handle)
        if address is not None:
            query = query.where(login_failures.c.address == address)
        return int(self._db.execute(query).scalar_one())

    def forget_failures(self, before: datetime) -> None:
        self._db.execute(delete(login_failures).where(login_failures.c.at < before))

    def add_device(self, device_hash: str, user_code: str, at: datetime, expires_at: datetime) -> None:
        try:
            with self._db.begin_nested():
                self._db.execute(
                    insert(device_logins).values(
                        device_hash=device_hash, user_code=user_code, created_at=at, expires_at=expires_at
                    )
                )
        except IntegrityError:
            raise ValidationError("user_code", "that code is taken; ask again") from None

    def _device(self, where: Any) -> DeviceLogin | None:
        row = self._db.execute(
            select(
                device_logins.c.id,
                device_logins.c.user_code,
                device_logins.c.created_at,
                device_logins.c.expires_at,
                device_logins.c.approved_by,
                device_logins.c.token_id,
            ).where(where)
        ).first()
        return None if row is None else DeviceLogin(**row._asdict())

    def device_by_hash(self, device_hash: str) -> DeviceLogin | None:
        return self._device(device_logins.c.device_hash == device_hash)

    def device_by_code(self, user_code: str) -> DeviceLogin | None:
        return self._device(device_logins.c.user_code == user_code)

    def approve_device(self, device_id: int, handle: str) -> None:
        self._db.execute(
            update(device_logins).where(device_logins.c.id == device_id).values(approved_by=handle)
        )

    def device_redeemed(self, device_id: int, token_id: int) -> bool:
        result = self._db.execute(
            update(device_logins)
            .where(device_logins.c.id == device_id, device_logins.c.token_id.is_(None))
            .values(token_id=token_id)
        )
        return bool(result.rowcount)
