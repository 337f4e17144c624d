"""JWTs: issuing a pair, rotating a refresh token, revoking one (logout).

A refresh token is spent by inserting its `jti` into `RevokedToken`; the unique index decides
races, so of many concurrent uses of one refresh token exactly one succeeds.
"""
from datetime import datetime, timezone

from mongoengine import NotUniqueError
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.authentication import TOKEN_VERSION_CLAIM, user_for_token
from accounts.documents import RevokedToken, User
from accounts.services.audit import audit_record


def token_pair_for(user: User) -> RefreshToken:
    """A refresh token (its `.access_token` is the matching access token) for `user`."""
    refresh = RefreshToken.for_user(user)
    refresh[TOKEN_VERSION_CLAIM] = user.token_version
    return refresh


def _refresh_token_parse(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)
    except TokenError as exc:
        raise AuthenticationFailed(str(exc), code="token_not_valid") from exc


def _refresh_token_claim(token: RefreshToken, user: User) -> None:
    """Revoke `token` by inserting its jti; the unique index lets exactly one caller win."""
    expires_at = datetime.fromtimestamp(token["exp"], tz=timezone.utc)
    try:
        RevokedToken(jti=token["jti"], user=user.id, expires_at=expires_at).save(force_insert=True)
    except NotUniqueError:
        raise AuthenticationFailed("Token is revoked.", code="token_not_valid") from None


def token_refresh(*, raw_refresh: str) -> RefreshToken:
    """Rotate: the given refresh token is revoked and a new pair issued. Of many concurrent
    uses of one refresh token exactly one succeeds; the rest are 401."""
    token = _refresh_token_parse(raw_refresh)
    user = user_for_token(token)
    _refresh_token_claim(token, user)
    return token_pair_for(user)


def token_revoke(*, raw_refresh: str, ip: str | None = None) -> None:
    """Log out: the given refresh token can no longer be used."""
    token = _refresh_token_parse(raw_refresh)
    user = user_for_token(token)
    _refresh_token_claim(token, user)
    audit_record(action="logout", actor=user, target=user, ip=ip)
