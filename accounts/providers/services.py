"""Signing in with a provider, and connecting and disconnecting identities.

The protocol is Authlib's (accounts/providers/registry.py). The rules are here:

- A browser redirect (`authorization_start`) stores its state (as a hash), nonce and PKCE
  verifier in MongoDB, bound to the browser by a cookie; the callback claims it once
  (`authorization_claim`: the delete decides), within AUTHORIZATION_MINUTES.
- A person's identity (issuer + subject) names their account. A first sign-in creates an account
  (username by the register rules), unless an account here holds the email: then it is linked to
  that account only if the provider says the email is verified AND the account's email is verified
  here; otherwise 409 `email_taken` (sign in to that account and connect the provider). So an
  attacker who registered a victim's email first, unverified, neither takes over the victim's
  provider sign-in nor is handed it.
- The sign-in ends as a password login does (`provider_sign_in`): the same lock-out (an account or
  address past its limit is refused, 429), the same EMAIL_VERIFICATION rule (403), and the same
  second factor: a user with two-factor on gets the mfa_token answer, not tokens. Decision (as
  allauth does by default, its MFA stage runs after any login): a provider vouches for the person
  at the provider, not for this account's second factor, which the owner turned on here.
- An account created by a provider has no usable password (a person sets one by a password
  reset). Disconnecting the last way to sign in is a 409.
"""
import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from bson import ObjectId
from django.conf import settings
from django.contrib.auth.hashers import is_password_usable, make_password
from joserfc.errors import JoseError
from mongoengine import NotUniqueError
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, AuthenticationFailed, NotFound, ValidationError

from accounts import identity as identity_rules
from accounts import lockout
from accounts.documents import User, casefold_key, now
from accounts.identity import email_keys_for_lookup
from accounts.providers.documents import ProviderAuthorization, ProviderIdentity
from accounts.providers.registry import Provider, client_for
from accounts.serializers import UsernameField
from accounts.services import two_factor
from accounts.services.audit import audit_record
from accounts.services.email_verification import login_verification_check, verification_send
from accounts.services.login import LoginOutcome
from accounts.services.registration import USERNAME_TAKEN, email_stored_form, username_suggestions
from accounts.services.tokens import token_pair_for
from common.exceptions import Conflict

AUTHORIZATION_MINUTES = 10
BAD_STATE = "This sign-in is unknown, was used already, has expired or was started in another browser."
CODE_REFUSED = "The provider refused the authorization code (wrong, used, expired, or not for this verifier or redirect URI)."
TOKEN_REFUSED = "The provider's id token was refused: {reason}."
NO_EMAIL = "The provider did not share an email address; allow the email scope."
EMAIL_TAKEN = (
    "An account here already uses this email. Sign in to that account and connect the provider from there."
)
ACCOUNT_DISABLED = "This account cannot sign in."
HELD_ELSEWHERE = "This identity is connected to another account."
LAST_WAY = "This is the account's last way to sign in. Set a password (by a password reset) or connect another provider first."
NOT_FOUND = "No such identity."


class EmailTaken(Conflict):
    """409 `{"detail": ..., "code": "email_taken"}` (API.md)."""

    def __init__(self):
        super().__init__(EMAIL_TAKEN, code="email_taken")
        self.extra = {"code": "email_taken"}  # rendered beside "detail" (config.exceptions)


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


# ---- accounts and identities -----------------------------------------------------------------


def _username_from(claims: dict) -> str:
    """The first of the provider's names that the register rules accept, else `user`."""
    field = UsernameField()
    email_local = str(claims.get("email") or "").rpartition("@")[0]
    for candidate in (claims.get("preferred_username"), claims.get("name"), email_local):
        if not isinstance(candidate, str):
            continue
        candidate = candidate.strip()[:140]
        try:
            return field.run_validation(candidate)
        except serializers.ValidationError:
            continue
    return "user"


def _account_create(*, user_id: ObjectId, claims: dict, email: str) -> User:
    """A new account for a person new here: username by the register rules (a taken one gets a
    free suggestion, as a 409 of register offers), no usable password, the email as verified as
    the provider says."""
    base = _username_from(claims)
    names, suggested = [base], False
    while names:
        username = names.pop(0)
        user = User(
            id=user_id,
            username=username,
            username_key=casefold_key(username),
            username_skeleton=identity_rules.username_skeleton(username),
            email=email,
            email_key=casefold_key(email),
            password=make_password(None),  # unusable: no password until a reset sets one
            email_verified=claims.get("email_verified") is True,
        )
        try:
            user.save(force_insert=True)
            return user
        except NotUniqueError:
            if User.objects(email_key=user.email_key).only("id").first() is not None:
                raise EmailTaken() from None
            if not suggested:  # the name is taken: its free suggestions, asked for only now
                suggested, names = True, username_suggestions(username=base)
    raise Conflict(USERNAME_TAKEN)


def _identity_insert(*, user_id: ObjectId, provider: Provider, claims: dict) -> ProviderIdentity:
    identity = ProviderIdentity(
        user=user_id,
        provider=provider.id,
        issuer=provider.issuer,
        subject=claims["sub"],
        email=str(claims.get("email") or "")[:254] or None,
        email_verified=claims.get("email_verified") is True,
    )
    identity.save(force_insert=True)  # the unique (issuer, subject) index decides
    return identity


def _user_for_new_identity(*, provider: Provider, claims: dict, ip: str) -> User:
    """The account a first sign-in of this identity goes to (see the module docstring)."""
    raw_email = claims.get("email")
    if not isinstance(raw_email, str) or not raw_email:
        raise ValidationError({"id_token": [NO_EMAIL]})
    email = email_stored_form(raw_email)
    existing = User.objects(email_key__in=email_keys_for_lookup(email)).first()
    if existing is not None:
        if not (claims.get("email_verified") is True and existing.email_verified):
            audit_record(action="provider_email_taken", target=existing, ip=ip, provider=provider.id)
            raise EmailTaken()
        try:
            _identity_insert(user_id=existing.id, provider=provider, claims=claims)
        except NotUniqueError:
            pass  # a concurrent first sign-in linked it: the identity's account is looked up again
        else:
            audit_record(action="identity_linked", actor=existing, target=existing, ip=ip, provider=provider.id, by="verified_email")
            return existing
        return _user_of_identity(provider=provider, claims=claims)
    # Identity first, under an id chosen now: of two concurrent first sign-ins, one insert wins
    # and only the winner creates the account. A crash between the two writes leaves an identity
    # without its account, which `check_integrity --fix` finds and removes (it is declared).
    user_id = ObjectId()
    try:
        identity = _identity_insert(user_id=user_id, provider=provider, claims=claims)
    except NotUniqueError:
        return _user_of_identity(provider=provider, claims=claims)
    try:
        user = _account_create(user_id=user_id, claims=claims, email=email)
    except Exception:
        identity.delete()
        raise
    audit_record(action="register", actor=user, target=user, ip=ip, provider=provider.id)
    if settings.EMAIL_VERIFICATION != "none" and not user.email_verified:
        verification_send(user=user)
    return user


def _user_of_identity(*, provider: Provider, claims: dict) -> User:
    found = ProviderIdentity.objects(issuer=provider.issuer, subject=claims["sub"]).only("user").as_pymongo().first()
    user = User.objects(id=found["user"]).first() if found else None
    if user is None:
        # The winner of a race has not created its account yet (or is being deleted).
        raise Conflict("This identity is being linked by another request. Try again.")
    return user


def provider_sign_in(*, provider: Provider, claims: dict, ip: str, user_agent: str = "") -> LoginOutcome:
    """Sign in the person the validated claims name: their account, a linked one, or a new one
    (module docstring); then the password login's rules: disabled or trashed accounts 401, the
    lock-out 429, EMAIL_VERIFICATION 403, the second factor (an mfa_token instead of tokens).
    Audited as `login` with the provider."""
    found = ProviderIdentity.objects(issuer=provider.issuer, subject=claims["sub"]).only("user").as_pymongo().first()
    user = User.objects(id=found["user"]).first() if found else None
    if user is None:
        user = _user_for_new_identity(provider=provider, claims=claims, ip=ip)
    if not user.is_active or user.in_trash or user.deleting:
        audit_record(action="login_failed", target=user, ip=ip, provider=provider.id)
        raise AuthenticationFailed(ACCOUNT_DISABLED)
    counts = lockout.login_guard_check(email_key=user.email_key, ip=ip)
    login_verification_check(user=user)
    if user.mfa_enabled:
        audit_record(action="login_provider_ok", actor=user, target=user, ip=ip, provider=provider.id, mfa="pending")
        return LoginOutcome(user=user, mfa_token=two_factor.mfa_token_issue(user=user))
    lockout.login_failures_clear(email_key=user.email_key, ip=ip, counts=counts)
    audit_record(action="login", actor=user, target=user, ip=ip, provider=provider.id)
    return LoginOutcome(user=user, refresh=token_pair_for(user, ip=ip, user_agent=user_agent))


def identity_connect(*, user: User, provider: Provider, claims: dict, ip: str) -> tuple[ProviderIdentity, bool]:
    """Link the identity the claims name to `user` (the signed-in owner). Returns (identity,
    created): connecting it again to the same account changes nothing; held by another account,
    409. The email plays no part: the person proved both sides themselves."""
    try:
        identity = _identity_insert(user_id=user.id, provider=provider, claims=claims)
    except NotUniqueError:
        held = ProviderIdentity.objects(issuer=provider.issuer, subject=claims["sub"]).first()
        if held is not None and held.user.id == user.id:
            return held, False
        raise Conflict(HELD_ELSEWHERE) from None
    audit_record(action="identity_linked", actor=user, target=user, ip=ip, provider=provider.id)
    return identity, True


def _has_other_way_in(*, user: User, identity_id) -> bool:
    if is_password_usable(user.password):
        return True
    return ProviderIdentity.objects(user=user.id, id__ne=identity_id).limit(1).count(with_limit_and_skip=True) > 0


def identity_disconnect(*, user: User, identity_id: str, actor: User, ip: str) -> None:
    """Unlink one of the user's identities (404 if it is not theirs). The last way to sign in
    cannot go (409): with no usable password and no other identity, the identity stays.

    Two concurrent disconnects of a user's last two identities could each see the other one:
    so the check runs again after the delete, and an identity found to have been the last is put
    back (both requests then answer 409 and both identities stay)."""
    if not ObjectId.is_valid(identity_id):
        raise NotFound(NOT_FOUND)
    identity = ProviderIdentity.objects(id=identity_id, user=user.id).first()
    if identity is None:
        raise NotFound(NOT_FOUND)
    if not _has_other_way_in(user=user, identity_id=identity.id):
        raise Conflict(LAST_WAY)
    if ProviderIdentity.objects(id=identity.id).delete() != 1:
        raise NotFound(NOT_FOUND)
    fresh = User.objects(id=user.id).only("password").first()
    if fresh is not None and not _has_other_way_in(user=fresh, identity_id=identity.id):
        try:
            identity.save(force_insert=True)
        except NotUniqueError:
            pass
        raise Conflict(LAST_WAY)
    audit_record(action="identity_unlinked", actor=actor, target=user, ip=ip, provider=identity.provider)
