"""Sign-in with OpenID Connect: the authorization code flow with PKCE (S256), run with
Authlib's client; the ID token checked with joserfc (signature against the provider's
JWKS, ``iss``, ``aud``, ``exp``, ``nonce``).

``/oidc/login`` reads the provider's discovery document
(``{issuer}/.well-known/openid-configuration``, kept 10 minutes), makes a state, a nonce
and a PKCE verifier, keeps them in a signed cookie that lives :data:`FLOW_SECONDS`, and
sends the browser to the provider. ``/oidc/callback`` checks the state against that
cookie (and that it was not used before: a replayed callback is refused), trades the code
for tokens (client secret and PKCE verifier), validates the ID token, then
``services.identity.oidc.sign_in`` finds or adds the person and starts an account session,
exactly like a password sign-in. Every refusal is a page saying why; nothing is stored.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Mapping
from typing import Any, cast

from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.concurrency import run_in_threadpool

from warroom.domain.shared.errors import ValidationError
from warroom.services.identity import oidc
from warroom.web import session
from warroom.web.visits import _error, _safe_next, _visit

COOKIE = "warroom_oidc"
SALT = "warroom.web.oidc"
FLOW_SECONDS = 600
CACHE_SECONDS = 600
TIMEOUT = 10.0
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
MAX_PARAM = 2048
_lock = threading.Lock()
_STATE_ATTR = "warroom_oidc_state"


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def label(raw: Mapping[str, Any]) -> str | None:
    """The button's label when ``[oidc]`` names an issuer (shown even if the rest is
    wrong, so the mistake is seen on click)."""
    table = raw.get("oidc")
    if not isinstance(table, Mapping) or not table.get("issuer"):
        return None
    shown = table.get("label")
    return shown.strip()[:60] if isinstance(shown, str) and shown.strip() else "SSO"


def _memory(request: Request) -> dict[str, Any]:
    """Per-process memory: discovery and JWKS documents, states already used."""
    state = request.app.state
    with _lock:
        found = getattr(state, _STATE_ATTR, None)
        if found is None:
            found = {"docs": {}, "used": {}}
            setattr(state, _STATE_ATTR, found)
    return cast(dict[str, Any], found)


def _get_json(request: Request, url: str, fresh: bool = False) -> dict[str, Any]:
    docs = _memory(request)["docs"]
    now = time.monotonic()
    with _lock:
        cached = docs.get(url)
    if cached is not None and not fresh and now - cached[0] < CACHE_SECONDS:
        return cast(dict[str, Any], cached[1])
    import requests

    try:
        answer = requests.get(url, timeout=TIMEOUT)
        answer.raise_for_status()
        body = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise _Refused(502, f"The sign-in provider did not answer at {url}: {exc}") from exc
    if not isinstance(body, dict):
        raise _Refused(502, f"The sign-in provider's {url} is not a JSON object.")
    with _lock:
        docs[url] = (now, body)
    return body


def _config(request: Request) -> oidc.OidcSettings:
    try:
        config = oidc.settings_of(session.app_of(request).settings.raw)
    except ValidationError as exc:
        raise _Refused(
            500, f"Sign-in with OpenID Connect is misconfigured: {exc.field} {exc.message}."
        ) from exc
    if config is None:
        raise _Refused(404, "Sign-in with OpenID Connect is not configured here.")
    return config


def _discovery(request: Request, config: oidc.OidcSettings) -> dict[str, Any]:
    doc = _get_json(request, f"{config.issuer}/.well-known/openid-configuration")
    if str(doc.get("issuer", "")).rstrip("/") != config.issuer:
        raise _Refused(502, f"The provider's discovery document names another issuer than {config.issuer}.")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(doc.get(key), str):
            raise _Refused(502, f"The provider's discovery document has no {key}.")
    return doc


def _redirect_uri(request: Request, config: oidc.OidcSettings) -> str:
    return config.redirect_uri or str(request.url_for("oidc_callback"))


def _client(request: Request, config: oidc.OidcSettings) -> OAuth2Session:
    return OAuth2Session(
        config.client_id,
        config.client_secret,
        scope=config.scopes,
        redirect_uri=_redirect_uri(request, config),
        code_challenge_method="S256",
        default_timeout=TIMEOUT,
    )


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(session.secret_key(request), salt=SALT)


def _start(request: Request) -> Response:
    config = _config(request)
    doc = _discovery(request, config)
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    with _client(request, config) as client:
        url, _ = client.create_authorization_url(
            doc["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
        )
    target = _safe_next(request.query_params.get("next"))
    response = RedirectResponse(url, status_code=303)
    flow = {"state": state, "nonce": nonce, "verifier": verifier, "next": target}
    response.set_cookie(
        COOKIE,
        _serializer(request).dumps(flow),
        max_age=FLOW_SECONDS,
        path="/oidc",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def _flow(request: Request) -> dict[str, str]:
    raw = request.cookies.get(COOKIE)
    again = "The sign-in took too long, was started in another browser or was already used: sign in again."
    if not raw:
        raise _Refused(400, again)
    try:
        flow: Any = _serializer(request).loads(raw, max_age=FLOW_SECONDS)
    except BadSignature as exc:
        raise _Refused(400, again) from exc
    keys = ("state", "nonce", "verifier", "next")
    if not isinstance(flow, dict) or not all(isinstance(flow.get(k), str) for k in keys):
        raise _Refused(400, again)
    given = request.query_params.get("state", "")
    if not given or not hmac.compare_digest(given.encode(), flow["state"].encode()):
        raise _Refused(
            400, "The provider's answer does not belong to this sign-in (state differs): sign in again."
        )
    used: dict[str, float] = _memory(request)["used"]
    now = time.monotonic()
    with _lock:
        for old in [s for s, at in used.items() if now - at > FLOW_SECONDS]:
            del used[old]
        if flow["state"] in used:
            raise _Refused(400, "This sign-in answer was already used: sign in again.")
        used[flow["state"]] = now
    return {k: flow[k] for k in keys}


def _claims(
    request: Request, config: oidc.OidcSettings, doc: dict[str, Any], id_token: str, nonce: str
) -> dict[str, Any]:
    allowed = [a for a in doc.get("id_token_signing_alg_values_supported", ["RS256"]) if a in ALGORITHMS]
    invalid = "The provider's ID token is not valid"
    for fresh in (False, True):  # a key rotated since the JWKS was cached: fetch it once more
        try:
            keys = KeySet.import_key_set(cast(Any, _get_json(request, doc["jwks_uri"], fresh)))
            token = jwt.decode(id_token, keys, algorithms=allowed or ["RS256"])
            break
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            if fresh:
                raise _Refused(403, f"{invalid} (signature): {exc}.") from exc
    registry = jwt.JWTClaimsRegistry(
        leeway=60,
        iss={"essential": True, "value": config.issuer},
        aud={"essential": True, "value": config.client_id},
        exp={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(token.claims)
    except JoseError as exc:
        raise _Refused(403, f"{invalid}: {exc.description or exc.error}.") from exc
    return dict(token.claims)


def _finish(request: Request) -> Response:
    config = _config(request)
    flow = _flow(request)
    params = request.query_params
    if params.get("error"):
        said = str(params.get("error_description") or params["error"])[:300]
        raise _Refused(403, f"The provider refused the sign-in: {said}")
    code = params.get("code", "")
    if not code or len(code) > MAX_PARAM:
        raise _Refused(400, "The provider's answer has no code.")
    doc = _discovery(request, config)
    try:
        with _client(request, config) as client:
            tokens = client.fetch_token(
                doc["token_endpoint"],
                code=code,
                code_verifier=flow["verifier"],
                grant_type="authorization_code",
            )
    except Exception as exc:  # authlib's OAuthError, requests' errors: the provider said no
        raise _Refused(403, f"The provider did not trade the code for tokens: {exc}") from exc
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise _Refused(403, "The provider sent no ID token: ask for the 'openid' scope.")
    claims = _claims(request, config, doc, id_token, flow["nonce"])
    address = request.client.host if request.client is not None else None
    try:
        _handle, secret = oidc.sign_in(session.app_of(request).context, config, claims, address)
    except oidc.OidcRefused as exc:
        raise _Refused(exc.status, exc.message) from exc
    response = RedirectResponse(flow["next"], status_code=303)
    session.store(request, response, session.new_session(sid=secret))
    response.delete_cookie(COOKIE, path="/oidc")
    return response


def _answer(request: Request, step: Any) -> Response:
    try:
        return cast(Response, step(request))
    except _Refused as exc:
        response = _error(request, _visit(request), exc.status, exc.message)
        response.delete_cookie(COOKIE, path="/oidc")
        return response


async def oidc_login(request: Request) -> Response:
    return await run_in_threadpool(_answer, request, _start)


async def oidc_callback(request: Request) -> Response:
    return await run_in_threadpool(_answer, request, _finish)


ROUTES = (
    ("/oidc/login", oidc_login, ["GET"]),
    ("/oidc/callback", oidc_callback, ["GET"]),
)
