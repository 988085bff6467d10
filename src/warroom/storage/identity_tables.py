"""Tables of identity beyond API tokens (migration ``0013``).

- ``accounts``: one row per person who may sign in, keyed by their directory handle. The
  password is an argon2 hash (NULL until the one-time setup link is used); ``setup_hash``
  is the sha256 of that link's secret, single use, valid until ``setup_expires_at``.
  ``totp_secret`` is the confirmed second factor, ``totp_pending`` one being enrolled,
  ``totp_last_step`` the last time step accepted (a code is never accepted twice).
  ``failures`` counts failed sign-ins since the last success; at the limit ``locked_at`` is
  set and only an admin unlocks.
- ``account_sessions``: server-side web sessions: the cookie carries a random secret,
  only its sha256 is stored; expiring and revocable.
- ``device_logins``: ``warroom login --url``: the CLI holds a device code (stored as its
  sha256), the person types the short user code into the signed-in web to approve; the
  CLI's next poll receives a new personal token (once).
- ``login_failures``: one row per refused sign-in, by account and client address, for the
  rate limits (rows older than the window are deleted as new ones come in).
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from warroom.storage.tables import BigId, metadata
from warroom.storage.types import UTCDateTime

accounts = Table(
    "accounts",
    metadata,
    Column("handle", String(64), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", Text),
    Column("setup_hash", String(64), unique=True),
    Column("setup_expires_at", UTCDateTime),
    Column("totp_secret", String(64)),
    Column("totp_pending", String(64)),
    Column("totp_last_step", BigId),
    Column("failures", Integer, nullable=False, default=0),
    Column("locked_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
)

account_sessions = Table(
    "account_sessions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("hash", String(64), nullable=False, unique=True),
    Column("handle", String(64), nullable=False),
    Column("address", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Index("ix_account_sessions_handle", "handle"),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("handle", String(64), nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_login_failures_handle", "handle", "at"),
    Index("ix_login_failures_address", "address", "at"),
)

device_logins = Table(
    "device_logins",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("device_hash", String(64), nullable=False, unique=True),
    Column("user_code", String(16), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("approved_by", String(64)),
    Column("token_id", Integer),
)
