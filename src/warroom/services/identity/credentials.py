"""What an account signs in with: the password rules and its argon2id hash, the one-way
digest of the secrets warroom hands out (setup links, sessions: only the sha256 is
stored), and finding an account by handle."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache
from typing import TYPE_CHECKING

from warroom.domain.shared.errors import NotFound, ValidationError
from warroom.services.ports.identity import Account, AccountStore

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
MAX_SECRET = 200


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@cache
def hasher(profile: str) -> PasswordHasher:
    from argon2 import PasswordHasher, profiles

    return PasswordHasher.from_parameters(getattr(profiles, profile))


@cache
def dummy_hash(profile: str) -> str:
    """A hash to verify against when the account is unknown, so both take as long."""
    return hasher(profile).hash(secrets.token_urlsafe(16))


def check_password(password: str) -> str:
    """The password as given, or ``ValidationError`` naming what is wrong with it."""
    if not isinstance(password, str) or not password:
        raise ValidationError("password", "is empty")
    if len(password) > MAX_PASSWORD:
        raise ValidationError("password", f"is longer than {MAX_PASSWORD} characters")
    if len(password) < MIN_PASSWORD:
        raise ValidationError("password", f"is shorter than {MIN_PASSWORD} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        raise ValidationError("password", "must not contain control characters")
    if not password.strip():
        raise ValidationError("password", "must not be only spaces")
    return password


def account_of(store: AccountStore, handle: str) -> Account:
    found = store.get(handle)
    if found is None:
        raise NotFound(f"no account {handle!r} (warroom user add {handle} --role responder)")
    return found
