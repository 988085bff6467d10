"""Local accounts: a person of the directory who signs in with a password (and, if they
enrolled one, a TOTP code), and the server-side web sessions that sign-in starts.

- ``add_user`` makes the account (and the person, when the directory has none by that
  handle) and returns a one-time setup secret: the link ``/setup/<secret>`` lets the
  person choose a password. Only its sha256 is stored; it expires after
  :data:`SETUP_HOURS` and works once.
- Passwords are hashed with argon2id (``argon2-cffi``), 12 to 1024 characters.
- Sign-in is refused, with the reason, when the client address has had
  :data:`ADDRESS_LIMIT` refusals in :data:`WINDOW`, when the account has had
  :data:`ACCOUNT_LIMIT` in a minute, and when it is locked: :data:`LOCK_AFTER`
  consecutive failures (password or TOTP) lock it until an admin unlocks it.
- A session is a random secret in the browser's signed cookie; only its sha256 is stored.
  It expires after :data:`SESSION_HOURS`, ends at sign-out and can be revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from warroom.domain.oncall.people import EMAIL, Person, require_handle
from warroom.domain.shared.errors import DomainError, NotFound, ValidationError
from warroom.services.identity.auth import RANKED
from warroom.services.ports.identity import Account, AccountStore, WebSession
from warroom.services.shared.context import Context

if TYPE_CHECKING:
    from argon2 import PasswordHasher

SETUP_PREFIX = "wsu_"
SESSION_PREFIX = "wss_"
SETUP_HOURS = 72
SESSION_HOURS = 12
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
LOCK_AFTER = 5
ACCOUNT_LIMIT = 3  # refusals of one account within a minute before it must wait
ADDRESS_LIMIT = 20  # refusals from one address within WINDOW
WINDOW = timedelta(minutes=15)
MAX_SECRET = 200
MAX_ADDRESS = 64


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


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@cache
def _hasher(profile: str) -> PasswordHasher:
    from argon2 import PasswordHasher, profiles

    return PasswordHasher.from_parameters(getattr(profiles, profile))


@cache
def _dummy_hash(profile: str) -> str:
    """A hash to verify against when the account is unknown, so both take as long."""
    return _hasher(profile).hash(secrets.token_urlsafe(16))


def _check_role(role: str) -> str:
    cleaned = (role or "").strip().lower()
    if cleaned not in RANKED:
        raise ValidationError("role", f"{role!r} is not one of {', '.join(RANKED)}")
    return cleaned


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


def _address(address: str | None) -> str:
    return (address or "unknown")[:MAX_ADDRESS]


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
    secret = SETUP_PREFIX + secrets.token_urlsafe(32)
    account = Account(
        handle=handle,
        role=role,
        created_at=now,
        setup_hash=_digest(secret),
        setup_expires_at=now + timedelta(hours=SETUP_HOURS),
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


def _account(store: AccountStore, handle: str) -> Account:
    found = store.get(handle)
    if found is None:
        raise NotFound(f"no account {handle!r} (warroom user add {handle} --role responder)")
    return found


def new_setup_link(ctx: Context, handle: str) -> str:
    """A fresh one-time setup secret for ``handle`` (a forgotten password); the password
    stays valid until the link is used."""
    handle = require_handle(handle)
    secret = SETUP_PREFIX + secrets.token_urlsafe(32)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        account = _account(uow.accounts, handle)
        uow.accounts.save(
            replace(account, setup_hash=_digest(secret), setup_expires_at=now + timedelta(hours=SETUP_HOURS))
        )
        uow.commit()
    return secret


def setup_account(ctx: Context, secret: str) -> Account:
    """The account a live setup secret opens; raises ``NotFound`` for unknown, used or
    expired ones (the same answer for all three)."""
    gone = NotFound("this setup link is unknown, used or expired: ask an admin for a new one")
    if not secret or len(secret) > MAX_SECRET or not secret.startswith(SETUP_PREFIX):
        raise gone
    with ctx.read() as uow:
        account = uow.accounts.by_setup_hash(_digest(secret))
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
    hashed = _hasher(ctx.password_profile).hash(password)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        current = uow.accounts.by_setup_hash(_digest(secret))
        if current is None:  # used by a concurrent request
            raise NotFound("this setup link was just used")
        done = replace(
            current, password_hash=hashed, setup_hash=None, setup_expires_at=None, failures=0, locked_at=None
        )
        uow.accounts.save(done)
        uow.accounts.revoke_sessions_of(done.handle, now)
        uow.commit()
    return done


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


def _start(ctx: Context, account: Account, address: str, now: datetime, step: int | None = None) -> str:
    secret = SESSION_PREFIX + secrets.token_urlsafe(32)
    with ctx.uow() as uow:
        current = uow.accounts.get(account.handle) or account
        uow.accounts.save(
            replace(current, failures=0, totp_last_step=step if step is not None else current.totp_last_step)
        )
        uow.accounts.add_session(
            _digest(secret), account.handle, address, now, now + timedelta(hours=SESSION_HOURS)
        )
        uow.commit()
    return secret


def start_session(ctx: Context, account: Account, address: str | None) -> str:
    """A new session for ``account`` signed in elsewhere (OpenID Connect): its secret."""
    return _start(ctx, account, _address(address), ctx.clock.now())


def sign_in(ctx: Context, handle: str, password: str, address: str | None) -> SignIn:
    """Check a handle and password; a session, or the second factor still due.

    Raises ``SignInRefused`` (wrong handle or password, locked, too many attempts)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    now = ctx.clock.now()
    where = _address(address)
    handle = (handle or "").strip().lower()[:64]
    _refuse_if_throttled(ctx, handle, where, now)
    wrong = "Wrong handle or password."
    usable = isinstance(password, str) and 0 < len(password) <= MAX_PASSWORD
    with ctx.read() as uow:
        account = uow.accounts.get(handle) if handle else None
    if account is not None and account.locked_at is not None:
        raise _locked(handle)
    hasher = _hasher(ctx.password_profile)
    try:
        stored = (
            account.password_hash
            if account is not None and account.password_hash
            else _dummy_hash(ctx.password_profile)
        )
        ok = usable and hasher.verify(stored, password)
        ok = ok and account is not None and account.password_hash is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or account is None or account.password_hash is None:
        raise _fail(ctx, handle or "-", where, now, wrong)
    if hasher.check_needs_rehash(account.password_hash):  # the profile changed since it was set
        account = replace(account, password_hash=hasher.hash(password))
        with ctx.uow() as uow:
            uow.accounts.save(
                replace(uow.accounts.get(account.handle) or account, password_hash=account.password_hash)
            )
            uow.commit()
    if account.totp_secret:
        return SignIn(handle=account.handle)
    return SignIn(handle=account.handle, session=_start(ctx, account, where, now))


def _totp_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    """The time step ``code`` is valid for (this one or a neighbour), never one at or
    before ``after`` (a code is accepted once)."""
    import pyotp

    code = (code or "").strip().replace(" ", "")
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    for drift in (0, -1, 1):
        at = now + timedelta(seconds=drift * totp.interval)
        step = int(totp.timecode(at))
        if (after is None or step > after) and hmac.compare_digest(totp.at(at), code):
            return step
    return None


def second_factor(ctx: Context, handle: str, code: str, address: str | None) -> str:
    """Check the TOTP code of ``handle`` (whose password was just accepted); a session."""
    now = ctx.clock.now()
    where = _address(address)
    _refuse_if_throttled(ctx, handle, where, now)
    with ctx.read() as uow:
        account = uow.accounts.get(handle)
    if account is None or not account.totp_secret:
        raise SignInRefused("Sign in again.")
    if account.locked_at is not None:
        raise _locked(handle)
    step = _totp_step(account.totp_secret, code, now, account.totp_last_step)
    if step is None:
        raise _fail(ctx, handle, where, now, "Wrong or already used code: use the current one from your app.")
    return _start(ctx, account, where, now, step)


def begin_totp(ctx: Context, handle: str) -> tuple[str, str]:
    """A new second-factor secret for ``handle`` to confirm; returns it and its
    ``otpauth://`` URI (shown once, for the authenticator app)."""
    import pyotp

    secret = pyotp.random_base32()
    with ctx.uow() as uow:
        account = _account(uow.accounts, handle)
        uow.accounts.save(replace(account, totp_pending=secret))
        uow.commit()
    return secret, pyotp.TOTP(secret).provisioning_uri(name=handle, issuer_name="warroom")


def confirm_totp(ctx: Context, handle: str, code: str) -> None:
    """Turn the pending secret on when ``code`` comes from it."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        account = _account(uow.accounts, handle)
        if not account.totp_pending:
            raise ValidationError("code", "start the enrolment first")
        step = _totp_step(account.totp_pending, code, now, None)
        if step is None:
            raise ValidationError("code", "that is not the current code of the new secret: try the next one")
        uow.accounts.save(
            replace(account, totp_secret=account.totp_pending, totp_pending=None, totp_last_step=step)
        )
        uow.commit()


def reset_totp(ctx: Context, handle: str) -> None:
    """Turn the second factor off (an admin, for a lost phone)."""
    with ctx.uow() as uow:
        account = _account(uow.accounts, require_handle(handle))
        uow.accounts.save(replace(account, totp_secret=None, totp_pending=None, totp_last_step=None))
        uow.commit()


def session_of(ctx: Context, secret: str) -> tuple[WebSession, Account] | None:
    """The live session whose secret is ``secret`` and its account (not locked)."""
    if not secret or len(secret) > MAX_SECRET or not secret.startswith(SESSION_PREFIX):
        return None
    with ctx.read() as uow:
        found = uow.accounts.session_by_hash(_digest(secret))
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


def unlock(ctx: Context, handle: str) -> Account:
    with ctx.uow() as uow:
        account = _account(uow.accounts, require_handle(handle))
        done = replace(account, failures=0, locked_at=None)
        uow.accounts.save(done)
        uow.commit()
    return done


def set_role(ctx: Context, handle: str, role: str) -> Account:
    with ctx.uow() as uow:
        account = _account(uow.accounts, require_handle(handle))
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


def session_view(found: WebSession) -> dict[str, object]:
    from warroom.domain.shared.timefmt import iso

    return {
        "id": found.id,
        "handle": found.handle,
        "address": found.address,
        "created_at": iso(found.created_at),
        "expires_at": iso(found.expires_at),
    }
