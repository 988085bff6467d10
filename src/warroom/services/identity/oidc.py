"""Sign-in through an OpenID Connect provider, once the web layer has validated the ID
token (``warroom.web.oidc`` runs the protocol with Authlib): the ``[oidc]`` settings, the
role the groups map to, the allowed email domains, and the person and account session.

The person is the directory's person with the token's (verified) email address; without
one, a person is added whose handle is the address's local part, made unique with a
number (``alice``, ``alice-2``). Their account gets the mapped role at every sign-in (the
provider's groups are the source of truth) and an unusable password, so only the
provider signs them in; a locked account stays locked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from warroom.domain.oncall.people import EMAIL, HANDLE, Person
from warroom.domain.shared.errors import ValidationError
from warroom.services.identity import accounts
from warroom.services.identity.auth import RANKED
from warroom.services.ports.identity import Account
from warroom.services.shared.context import Context

NO_PASSWORD = "!oidc"  # not an argon2 hash: no password ever matches it
DEFAULT_ROLE = "viewer"


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    label: str = "SSO"
    allowed_domains: tuple[str, ...] = ()
    groups_claim: str = "groups"
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    default_role: str = DEFAULT_ROLE
    redirect_uri: str = ""
    scopes: str = "openid email profile"


def _text(raw: Mapping[str, Any], key: str, default: str = "") -> str:
    value = raw.get(key, default)
    if not isinstance(value, str):
        raise ValidationError(f"oidc.{key}", "must be a string")
    return value.strip()


def _names(value: object, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(key, "must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def settings_of(raw: Mapping[str, Any]) -> OidcSettings | None:
    """The ``[oidc]`` table, or None when it is absent or has no issuer; ``ValidationError``
    naming the field when it is malformed."""
    table = raw.get("oidc")
    if not isinstance(table, Mapping) or not table.get("issuer"):
        return None
    issuer = _text(table, "issuer").rstrip("/")
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", issuer):
        raise ValidationError("oidc.issuer", f"{issuer!r} is not an http(s) URL")
    client_id, client_secret = _text(table, "client_id"), _text(table, "client_secret")
    if not client_id or not client_secret:
        raise ValidationError("oidc.client_id", "client_id and client_secret are both needed")
    roles_raw = table.get("roles", {})
    if not isinstance(roles_raw, Mapping):
        raise ValidationError("oidc.roles", "must be a table such as {admin = ['ops-admins']}")
    roles: dict[str, tuple[str, ...]] = {}
    for role, groups in roles_raw.items():
        if role not in RANKED:
            raise ValidationError("oidc.roles", f"{role!r} is not one of {', '.join(RANKED)}")
        roles[role] = _names(groups, f"oidc.roles.{role}")
    default_role = _text(table, "default_role", DEFAULT_ROLE).lower()
    if default_role not in RANKED:
        raise ValidationError("oidc.default_role", f"{default_role!r} is not one of {', '.join(RANKED)}")
    return OidcSettings(
        issuer=issuer,
        client_id=client_id,
        client_secret=client_secret,
        label=_text(table, "label", "SSO")[:60] or "SSO",
        allowed_domains=tuple(
            d.lower().lstrip("@") for d in _names(table.get("allowed_domains", []), "oidc.allowed_domains")
        ),
        groups_claim=_text(table, "groups_claim", "groups") or "groups",
        roles=roles,
        default_role=default_role,
        redirect_uri=_text(table, "redirect_uri"),
        scopes=_text(table, "scopes", "openid email profile") or "openid email profile",
    )


def role_for(config: OidcSettings, groups: Sequence[str]) -> str:
    """The highest role one of ``groups`` maps to, else the default role."""
    member = set(groups)
    best = config.default_role
    for role, names in config.roles.items():
        if member.intersection(names) and RANKED.index(role) > RANKED.index(best):
            best = role
    return best


class OidcRefused(accounts.SignInRefused):
    """The provider's answer is not one warroom signs in (403 unless said otherwise)."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message, status)


def groups_of(claims: Mapping[str, Any], claim: str) -> list[str]:
    value = claims.get(claim, [])
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def email_of(config: OidcSettings, claims: Mapping[str, Any]) -> str:
    """The verified email address of the ID token, allowed by ``allowed_domains``."""
    email = claims.get("email")
    if not isinstance(email, str) or not EMAIL.fullmatch(email.strip()):
        raise OidcRefused("The provider sent no email address: ask for the 'email' scope.")
    if claims.get("email_verified") is False:
        raise OidcRefused("The provider says this email address is not verified.")
    email = email.strip().lower()
    domain = email.rsplit("@", 1)[1]
    if config.allowed_domains and domain not in config.allowed_domains:
        raise OidcRefused(f"Accounts of {domain} may not sign in here.")
    return email


def _new_handle(taken: set[str], email: str) -> str:
    local = re.sub(r"[^a-z0-9._-]+", "-", email.split("@", 1)[0].lower()).strip("._-")[:56] or "user"
    if not HANDLE.fullmatch(local):
        local = "user"
    handle, n = local, 1
    while handle in taken:
        n += 1
        handle = f"{local}-{n}"
    return handle


def sign_in(
    ctx: Context, config: OidcSettings, claims: Mapping[str, Any], address: str | None
) -> tuple[str, str]:
    """The person the validated ``claims`` name and a new session: ``(handle, secret)``.

    Raises ``OidcRefused`` (no or unverified email, domain not allowed, account locked)
    before anything is stored."""
    email = email_of(config, claims)
    role = role_for(config, groups_of(claims, config.groups_claim))
    name = claims.get("name")
    shown = name.strip()[:120] if isinstance(name, str) and name.strip().isprintable() else ""
    try:
        return _sign_in(ctx, email, role, shown, address)
    except ValidationError as exc:  # the same new person signing in twice at once
        raise OidcRefused(f"Signing in failed ({exc.field} {exc.message}): try again.", 409) from exc


def _sign_in(ctx: Context, email: str, role: str, shown: str, address: str | None) -> tuple[str, str]:
    now = ctx.clock.now()
    with ctx.uow() as uow:
        people = uow.oncall.people()
        person = next((p for p in people if p.email.strip().lower() == email), None)
        if person is None:
            handle = _new_handle({p.handle for p in people} | {a.handle for a in uow.accounts.all()}, email)
            person = Person(handle=handle, name=shown or handle, email=email)
            uow.oncall.put_person(person, now)
        account = uow.accounts.get(person.handle)
        if account is not None and account.locked_at is not None:
            raise OidcRefused(f"The account {person.handle} is locked: ask an admin to unlock it.", 423)
        if account is None:
            account = Account(handle=person.handle, role=role, created_at=now, password_hash=NO_PASSWORD)
            uow.accounts.add(account)
        else:
            account = replace(account, role=role, password_hash=account.password_hash or NO_PASSWORD)
            uow.accounts.save(account)
        uow.commit()
    return person.handle, accounts.start_session(ctx, account, address)
