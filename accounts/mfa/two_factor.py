"""Two-factor login: TOTP (RFC 6238, with pyotp) and single-use recovery codes.

- The factors themselves (the secret at rest, codes, recovery codes) are in accounts/mfa/factors.py;
  every change here that needs the person again goes through accounts/users/reauth.py.
- Enrolment is two steps. `totp_enrol_start` (the re-authentication gate first) stores a new secret,
  encrypted, not yet active, and returns it with its `otpauth://` URI for an authenticator app.
  `totp_enrol_confirm` with a code the app shows turns two-factor on and returns ten recovery
  codes, once: only their SHA-256 hashes are kept. They are 80 random bits each, so a fast hash
  is enough (no guessing attack on a stolen hash is feasible), and it lets a code be used with
  one atomic `$pull` of its hash: of two concurrent uses of one recovery code, one succeeds.
- A TOTP code is accepted for the current 30-second step and one step either side (clock drift,
  RFC 6238 section 5.2), and only once: the step of the last accepted code is stored and raised
  with one conditional update (`last_step < step`), so a replayed code, or an older one, fails
  even when two requests race.
- Login of a user with two-factor on stops after the password with a short-lived, single-use
  `mfa_token` (a JWT of type `mfa`, MFA_TOKEN_SECONDS); `mfa_login` takes it with a code or a
  recovery code and begins the session. A wrong code counts as a failed login (the lock-out of
  accounts/users/lockout.py) and is a 400. The token is spent (its jti inserted into the revoked
  tokens, whose unique index decides races) only when the code is right, so a typo does not
  send the person back to the password.
- The secret is encrypted at rest with Fernet (AES-128-CBC and HMAC-SHA256, `cryptography`) under
  MFA_ENCRYPTION_KEYS (see config/settings/base.py); it appears in no response but the
  enrolment's, in no export and in no log line.
"""
from datetime import datetime, timedelta, timezone

import pyotp
from django.conf import settings
from mongoengine import NotUniqueError
from pymongo.errors import DuplicateKeyError
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import Token

from accounts.events.webhooks import event_emit
from accounts.mfa import factors
from accounts.mfa.factors import INVALID_CODE
from accounts.mfa.documents import RevokedToken, TotpDevice
from accounts.sessions.authentication import TOKEN_VERSION_CLAIM, user_for_token
from accounts.users import lockout, reauth
from accounts.users.audit import audit_record
from accounts.users.documents import User, now
from common.exceptions import Conflict
ALREADY_ON = "Two-factor authentication is already on; turn it off first."
NOT_ON = "Two-factor authentication is not on."


class MfaToken(Token):
    """Proof that the password was right, good for one second-factor attempt series."""

    token_type = "mfa"
    lifetime = timedelta(minutes=5)  # replaced by MFA_TOKEN_SECONDS when issued


# --- Enrolment and management --------------------------------------------------------------------
def totp_enrol_start(*, user: User, ip: str | None = None, **proof: str | None) -> tuple[str, str]:
    """Store a new TOTP secret for `user`, inactive until confirmed; return it and its
    `otpauth://` URI. Starting again before confirming replaces the pending secret. 409 when
    two-factor is on already (turning it off first needs the password). `proof`: what the
    re-authentication gate takes (`current_password`, `code`, `recovery_code`)."""
    reauth.reauthenticate(user=user, action="totp_enrol", ip=ip, **proof)
    if user.mfa_enabled:
        raise Conflict(ALREADY_ON)
    secret = pyotp.random_base32(32)  # 160 bits, as RFC 4226 recommends
    try:
        TotpDevice._get_collection().update_one(
            {"user": user.id, "confirmed": False},
            {
                "$set": {"secret": factors.secret_encrypt(secret), "last_step": 0, "recovery_codes": [], "created_at": now()},
                "$setOnInsert": {"confirmed": False},
            },
            upsert=True,
        )
    except DuplicateKeyError:  # a confirmed device exists (the unique index on user says so)
        raise Conflict(ALREADY_ON) from None
    uri = factors.totp_for(secret).provisioning_uri(name=user.email, issuer_name=settings.MFA_TOTP_ISSUER)
    return secret, uri


def totp_enrol_confirm(*, user: User, code: str, ip: str | None = None) -> list[str]:
    """Turn two-factor on with a code from the pending secret; return the ten recovery codes
    (only their hashes are kept). 400 for a wrong code or no pending enrolment, 409 when on."""
    if user.mfa_enabled:
        raise Conflict(ALREADY_ON)
    collection = TotpDevice._get_collection()
    device = collection.find_one({"user": user.id})
    if device is None:
        raise ValidationError({"code": ["Start the enrolment first (POST /users/{user_id}/mfa/totp)."]})
    if device["confirmed"]:  # a concurrent confirm won
        raise Conflict(ALREADY_ON)
    secret = factors.secret_decrypt(device["secret"])
    step = factors.matching_step(secret, code) if secret else None
    if step is None:
        raise ValidationError({"code": [INVALID_CODE]})
    codes, hashes = factors.recovery_codes_new()
    confirmed = collection.update_one(
        {"_id": device["_id"], "confirmed": False, "secret": device["secret"]},
        {"$set": {"confirmed": True, "confirmed_at": now(), "last_step": step, "recovery_codes": hashes}},
    )
    if not confirmed.modified_count:  # a concurrent confirm or a new start won
        raise Conflict("The enrolment changed meanwhile; start again.")
    User._get_collection().update_one({"_id": user.id}, {"$set": {"mfa_enabled": True, "updated_at": now()}})
    user.mfa_enabled = True
    audit_record(action="mfa_enabled", actor=user, target=user, ip=ip, method="totp")
    event_emit("mfa.enabled", user_id=user.id, data={"method": "totp"})
    return codes


def _mfa_off(user: User) -> None:
    """Two-factor off first (the flag login reads), then the device and its codes go."""
    User._get_collection().update_one({"_id": user.id}, {"$set": {"mfa_enabled": False, "updated_at": now()}})
    user.mfa_enabled = False
    TotpDevice._get_collection().delete_many({"user": user.id})
    event_emit("mfa.disabled", user_id=user.id)


def totp_disable(*, user: User, ip: str | None = None, **proof: str | None) -> None:
    """Turn two-factor off (the secret and recovery codes are deleted), past the
    re-authentication gate. Safe to repeat."""
    reauth.reauthenticate(user=user, action="totp_disable", ip=ip, **proof)
    _mfa_off(user)
    audit_record(action="mfa_disabled", actor=user, target=user, ip=ip)


def mfa_reset(*, user: User, actor: User, ip: str | None = None) -> None:
    """An admin turns a user's two-factor off (a lost phone and lost codes). Audited."""
    _mfa_off(user)
    audit_record(action="mfa_reset", actor=actor, target=user, ip=ip)


def recovery_codes_regenerate(*, user: User, ip: str | None = None, **proof: str | None) -> list[str]:
    """Ten new recovery codes, shown once; the old ones stop working (past the re-authentication
    gate). 409 when two-factor is off."""
    reauth.reauthenticate(user=user, action="recovery_codes", ip=ip, **proof)
    codes, hashes = factors.recovery_codes_new()
    replaced = TotpDevice._get_collection().update_one({"user": user.id, "confirmed": True}, {"$set": {"recovery_codes": hashes}})
    if not (user.mfa_enabled and replaced.matched_count):
        raise Conflict(NOT_ON)
    audit_record(action="mfa_recovery_codes_regenerated", actor=user, target=user, ip=ip)
    return codes


# --- Login's second step -------------------------------------------------------------------------
def mfa_token_issue(*, user: User) -> str:
    token = MfaToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=settings.MFA_TOKEN_SECONDS))
    token[TOKEN_VERSION_CLAIM] = user.token_version
    return str(token)


def mfa_second_factor_check(*, raw_token: str, code: str | None = None, recovery_code: str | None = None, ip: str) -> User:
    """The second step of a two-factor login: with a right code (or unused recovery code), spend
    the mfa_token and return its user, for whom login then begins a session.

    401 for a bad, expired or spent mfa_token; 429 past the failed-login limit; 400 for a wrong,
    replayed or used code, counted as a failed login."""
    try:
        token = MfaToken(raw_token)
    except TokenError as exc:
        raise AuthenticationFailed(str(exc), code="token_not_valid") from exc
    user = user_for_token(token, session_required=False)
    counts = lockout.login_guard_check(email_key=user.email_key, ip=ip)
    factor = "totp" if code else "recovery_code"
    accepted = factors.second_factor_accept(user=user, code=code, recovery_code=recovery_code)
    if not accepted:
        lockout.login_failure_record(email_key=user.email_key, ip=ip, user_id=user.id)
        audit_record(action="login_failed", target=user, ip=ip, factor=factor)
        raise ValidationError({"code" if code else "recovery_code": [INVALID_CODE]})
    try:
        RevokedToken(jti=token["jti"], user=user.id, expires_at=datetime.fromtimestamp(token["exp"], tz=timezone.utc)).save(
            force_insert=True
        )
    except NotUniqueError:
        raise AuthenticationFailed("Token is revoked.", code="token_not_valid") from None
    lockout.login_failures_clear(email_key=user.email_key, ip=ip, counts=counts)
    audit_record(action="login", actor=user, target=user, ip=ip, factor=factor)
    return user
