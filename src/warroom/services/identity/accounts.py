"""Local accounts: a person of the directory who signs in with a password (and, if they
enrolled one, a TOTP code), and the server-side web sessions that sign-in starts.

- ``add_user`` makes the account (and the person, when the directory has none by that
  handle) and returns a one-time setup secret (:mod:`.setup_links`).
- Passwords are hashed with argon2id (``argon2-cffi``), 12 to 1024 characters
  (:mod:`.credentials`); a second factor is TOTP (:mod:`.totp`).
- Sign-in is refused, with the reason, when the client address has had
  :data:`ADDRESS_LIMIT` refusals in :data:`WINDOW`, when the account has had
  :data:`ACCOUNT_LIMIT` in a minute, and when it is locked: :data:`LOCK_AFTER`
  consecutive failures (password or TOTP) lock it until an admin unlocks it.
- Sign-in starts a session (:mod:`.sessions`).

The names of those modules stay importable from here (``accounts.set_password``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from warroom.domain.oncall.people import EMAIL, Person, require_handle
from warroom.domain.shared.errors import DomainError, ValidationError
from warroom.services.identity.auth import RANKED
from warroom.services.identity.credentials import (
    MAX_PASSWORD,
    MAX_SECRET,
    MIN_PASSWORD,
    account_of,
    check_password,
    dummy_hash,
    hasher,
)
from warroom.services.identity.sessions import (
    MAX_ADDRESS,
    SESSION_HOURS,
    SESSION_PREFIX,
    address_of,
    end_session,
    open_session,
    revoke_session,
    session_of,
    session_view,
    sessions,
    start_session,
)
from warroom.services.identity.setup_links import (
    SETUP_HOURS,
    SETUP_PREFIX,
    new_setup_link,
    new_setup_secret,
    set_password,
    setup_account,
)
from warroom.services.identity.totp import begin_totp, confirm_totp, reset_totp, totp_step
from warroom.services.ports.identity import Account
from warroom.services.shared.context import Context

__all__ = [
    "ACCOUNT_LIMIT",
    "ADDRESS_LIMIT",
    "LOCK_AFTER",
    "MAX_ADDRESS",
    "MAX_PASSWORD",
    "MAX_SECRET",
    "MIN_PASSWORD",
    "SESSION_HOURS",
    "SESSION_PREFIX",
    "SETUP_HOURS",
    "SETUP_PREFIX",
    "WINDOW",
    "SignIn",
    "SignInRefused",
    "add_user",
    "begin_totp",
    "check_password",
    "confirm_totp",
    "end_session",
    "new_setup_link",
    "reset_totp",
    "revoke_session",
    "second_factor",
    "session_of",
    "session_view",
    "sessions",
    "set_password",
    "set_role",
    "setup_account",
    "sign_in",
    "start_session",
    "unlock",
    "user_view",
    "users",
]

LOCK_AFTER = 5
ACCOUNT_LIMIT = 3  # refusals of one account within a minute before it must wait
ADDRESS_LIMIT = 20  # refusals from one address within WINDOW
WINDOW = timedelta(minutes=15)


class SignInRefused(DomainError):
    """A sign-in refused; ``status`` is the HTTP status that fits (401, 423, 429)."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SignIn:
    """A password accepted: a session secret, or (``second_factor``) a TOTP code is due."""

    handle: str
    session: str | None = None

    @property
    def second_factor(self) -> bool:
        return self.session is None


def _check_role(role: str) -> str:
    cleaned = (role or "").strip().lower()
    if cleaned not in RANKED:
        raise ValidationError("role", f"{role!r} is not one of {', '.join(RANKED)}")
    return cleaned


def add_user(
    ctx: Context, handle: str, role: str, *, name: str | None = None, email: str | None = None
) -> tuple[Account, str]:
    """Make ``handle`` an account with ``role``; returns it and the one-time setup secret.

    The account is the directory's person of the same handle; without one, the person is
    added (``name`` defaults to the handle)."""
    handle = require_handle(handle)
    role = _check_role(role)
    if email is not None and email.strip() and not EMAIL.fullmatch(email.strip()):
        raise ValidationError("email", f"{email!r} is not an email address")
    now = ctx.clock.now()
    secret, setup_hash, expires = new_setup_secret(now)
    account = Account(
        handle=handle,
        role=role,
        created_at=now,
        setup_hash=setup_hash,
        setup_expires_at=expires,
    )
    with ctx.uow() as uow:
        if uow.oncall.person(handle) is None:
            shown = (name or "").strip() or handle
            if len(shown) > 120 or not shown.isprintable():
                raise ValidationError("name", "must be printable and at most 120 characters")
            uow.oncall.put_person(Person(handle=handle, name=shown, email=(email or "").strip()), now)
        uow.accounts.add(account)
        uow.commit()
    return account, secret


def _refuse_if_throttled(ctx: Context, handle: str, address: str, now: datetime) -> None:
    with ctx.read() as uow:
        from_address = uow.accounts.failures_since(address=address, since=now - WINDOW)
        of_account = uow.accounts.failures_since(handle=handle, since=now - timedelta(minutes=1))
    if from_address >= ADDRESS_LIMIT:
        raise SignInRefused(
            f"Too many failed sign-ins from your address: try again in {int(WINDOW.total_seconds() // 60)} minutes.",
            429,
        )
    if of_account >= ACCOUNT_LIMIT:
        raise SignInRefused("Too many failed sign-ins for this account: wait a minute and try again.", 429)


def _locked(handle: str) -> SignInRefused:
    return SignInRefused(
        f"This account is locked after {LOCK_AFTER} failed sign-ins. "
        f"An admin can unlock it: warroom user unlock {handle}",
        423,
    )


def _fail(ctx: Context, handle: str, address: str, now: datetime, message: str) -> SignInRefused:
    """Count one refusal (and lock the account at the limit); the refusal to raise."""
    with ctx.uow() as uow:
        uow.accounts.forget_failures(now - WINDOW)
        uow.accounts.add_failure(handle, address, now)
        account = uow.accounts.get(handle)
        locked = False
        if account is not None:
            failures = account.failures + 1
            locked = failures >= LOCK_AFTER
            uow.accounts.save(
                replace(account, failures=failures, locked_at=now if locked else account.locked_at)
            )
        uow.commit()
    return _locked(handle) if locked else SignInRefused(message)


def sign_in(ctx: Context, handle: str, password: str, address: str | None) -> SignIn:
    """Check a handle and password; a session, or the second factor still due.

    Raises ``SignInRefused`` (wrong handle or password, locked, too many attempts)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    now = ctx.clock.now()
    where = address_of(address)
    handle = (handle or "").strip().lower()[:64]
    _refuse_if_throttled(ctx, handle, where, now)
    wrong = "Wrong handle or password."
    usable = isinstance(password, str) and 0 < len(password) <= MAX_PASSWORD
    with ctx.read() as uow:
        account = uow.accounts.get(handle) if handle else None
    if account is not None and account.locked_at is not None:
        raise _locked(handle)
    argon = hasher(ctx.password_profile)
    try:
        stored = (
            account.password_hash
            if account is not None and account.password_hash
            else dummy_hash(ctx.password_profile)
        )
        ok = usable and argon.verify(stored, password)
        ok = ok and account is not None and account.password_hash is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or account is None or account.password_hash is None:
        raise _fail(ctx, handle or "-", where, now, wrong)
    if argon.check_needs_rehash(account.password_hash):  # the profile changed since it was set
        account = replace(account, password_hash=argon.hash(password))
        with ctx.uow() as uow:
            uow.accounts.save(
                replace(uow.accounts.get(account.handle) or account, password_hash=account.password_hash)
            )
            uow.commit()
    if account.totp_secret:
        return SignIn(handle=account.handle)
    return SignIn(handle=account.handle, session=open_session(ctx, account, where, now))


def second_factor(ctx: Context, handle: str, code: str, address: str | None) -> str:
    """Check the TOTP code of ``handle`` (whose password was just accepted); a session."""
    now = ctx.clock.now()
    where = address_of(address)
    _refuse_if_throttled(ctx, handle, where, now)
    with ctx.read() as uow:
        account = uow.accounts.get(handle)
    if account is None or not account.totp_secret:
        raise SignInRefused("Sign in again.")
    if account.locked_at is not None:
        raise _locked(handle)
    step = totp_step(account.totp_secret, code, now, account.totp_last_step)
    if step is None:
        raise _fail(ctx, handle, where, now, "Wrong or already used code: use the current one from your app.")
    return open_session(ctx, account, where, now, step)


def unlock(ctx: Context, handle: str) -> Account:
    with ctx.uow() as uow:
        account = account_of(uow.accounts, require_handle(handle))
        done = replace(account, failures=0, locked_at=None)
        uow.accounts.save(done)
        uow.commit()
    return done


def set_role(ctx: Context, handle: str, role: str) -> Account:
    with ctx.uow() as uow:
        account = account_of(uow.accounts, require_handle(handle))
        done = replace(account, role=_check_role(role))
        uow.accounts.save(done)
        uow.commit()
    return done


def users(ctx: Context) -> list[Account]:
    with ctx.read() as uow:
        return uow.accounts.all()


def user_view(account: Account) -> dict[str, object]:
    """The JSON shape of an account (no hash, no secret)."""
    from warroom.domain.shared.timefmt import iso

    return {
        "handle": account.handle,
        "role": account.role,
        "password_set": account.password_hash is not None,
        "setup_pending": account.setup_hash is not None,
        "totp": account.totp_secret is not None,
        "locked": account.locked_at is not None,
        "failures": account.failures,
        "created_at": iso(account.created_at),
    }
