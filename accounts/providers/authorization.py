"""The protocol steps of a provider sign-in, all Authlib's (accounts/providers/registry.py):
the browser redirect, whose state (as a hash), nonce and PKCE verifier are kept in MongoDB bound to
the browser by a cookie and claimed once by the callback; and the code exchange with the id token's
validation. What a sign-in then does to accounts is in services.py."""
import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from django.conf import settings
from joserfc.errors import JoseError
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError

from accounts.users.documents import now
from accounts.providers.documents import ProviderAuthorization
from accounts.providers.registry import Provider, client_for

AUTHORIZATION_MINUTES = 10
BAD_STATE = "This sign-in is unknown, was used already, has expired or was started in another browser."
CODE_REFUSED = "The provider refused the authorization code (wrong, used, expired, or not for this verifier or redirect URI)."
TOKEN_REFUSED = "The provider's id token was refused: {reason}."


class ProviderUnavailable(APIException):
    """502: the provider could not be reached or answered something that is not OpenID Connect."""

    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "The identity provider could not be reached. Try again later."
    default_code = "provider_unavailable"


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# ---- the browser redirect ----------------------------------------------------------------------


def next_url_check(next_url: str | None) -> str:
    """Where the callback may send the browser with tokens: a path on this site, or a URL on an
    origin of OIDC_ALLOWED_NEXT_ORIGINS. Anything else is a 400: tokens in a fragment must never
    go to a site that is not ours (an open redirect would hand them over)."""
    if not next_url:
        return settings.OIDC_DEFAULT_NEXT
    if len(next_url) > 2048 or any(c in next_url for c in "\\\r\n\t\x00"):
        raise ValidationError({"next": ["Not an allowed redirect."]})
    parts = urlsplit(next_url)
    if not parts.scheme and not parts.netloc and next_url.startswith("/") and not next_url.startswith("//"):
        return next_url
    origin = f"{parts.scheme}://{parts.netloc}"
    if parts.scheme in ("http", "https") and origin in settings.OIDC_ALLOWED_NEXT_ORIGINS:
        return next_url
    raise ValidationError({"next": ["Not an allowed redirect."]})


def authorization_start(*, provider: Provider, redirect_uri: str, next_url: str) -> tuple[str, str]:
    """Begin a browser sign-in: returns (the provider's authorization URL, the browser binding to
    set as a cookie). The pending authorization is stored before the browser is sent anywhere.
    One round trip."""
    client = client_for(provider)
    try:
        started = client.create_authorization_url(redirect_uri)  # state, nonce, PKCE S256 verifier
    except (requests.RequestException, ValueError, KeyError, RuntimeError):
        raise ProviderUnavailable() from None
    browser = secrets.token_urlsafe(32)
    ProviderAuthorization(
        state_hash=_hash(started["state"]),
        browser_hash=_hash(browser),
        provider=provider.id,
        nonce=started["nonce"],
        code_verifier=started["code_verifier"],
        redirect_uri=redirect_uri,
        next_url=next_url,
        expires_at=now() + timedelta(minutes=AUTHORIZATION_MINUTES),
    ).save(force_insert=True)
    return started["url"], browser


def authorization_claim(*, provider: Provider, state: str, browser: str) -> ProviderAuthorization:
    """Spend the pending authorization of `state`: exactly one caller gets it (the delete's count
    decides), only within its lifetime, only for the provider it was started with and only in
    the browser that started it. Otherwise a 400. Two round trips."""
    if not state or len(state) > 512:
        raise ValidationError({"state": [BAD_STATE]})
    pending = ProviderAuthorization.objects(state_hash=_hash(state), expires_at__gt=now()).first()
    if pending is None or ProviderAuthorization.objects(id=pending.id).delete() != 1:
        raise ValidationError({"state": [BAD_STATE]})
    if pending.provider != provider.id or not secrets.compare_digest(pending.browser_hash, _hash(browser or "")):
        raise ValidationError({"state": [BAD_STATE]})
    return pending


# ---- the code, the id token ------------------------------------------------------------------


def claims_from_code(*, provider: Provider, code: str, code_verifier: str, redirect_uri: str, nonce: str | None) -> dict:
    """Exchange the code at the provider's token endpoint (with the PKCE verifier) and return the
    id token's claims once Authlib has checked its signature (against the provider's JWKS, under
    an asymmetric algorithm only), issuer, audience (our client id), expiry, issue time, the
    access token's hash and, when given, the nonce. A refused code or id token is a 400; a
    provider that cannot be reached is a 502."""
    client = client_for(provider)
    try:
        token = client.fetch_access_token(redirect_uri=redirect_uri, code=code, code_verifier=code_verifier)
    except OAuthError:
        raise ValidationError({"code": [CODE_REFUSED]}) from None
    except (requests.RequestException, ValueError, KeyError, RuntimeError):
        raise ProviderUnavailable() from None
    if not isinstance(token, dict) or "id_token" not in token:
        raise ValidationError({"code": [TOKEN_REFUSED.format(reason="the provider sent no id token")]})
    try:
        claims = client.parse_id_token(token, nonce=nonce, leeway=settings.OIDC_CLOCK_LEEWAY_SECONDS)
    except JoseError as exc:
        raise ValidationError({"id_token": [TOKEN_REFUSED.format(reason=_reason(exc))]}) from None
    except (requests.RequestException, ValueError, KeyError, RuntimeError):
        raise ProviderUnavailable() from None
    claims = dict(claims)
    if not isinstance(claims.get("sub"), str) or not claims["sub"] or len(claims["sub"]) > 255:
        raise ValidationError({"id_token": [TOKEN_REFUSED.format(reason="no usable subject")]})
    return claims


def _reason(exc: JoseError) -> str:
    # joserfc's own words ("bad_signature", "invalid_claim: Invalid claim: 'aud'", ...), no token.
    return f"{exc.error}: {exc.description}" if getattr(exc, "description", None) else str(exc.error)
