"""Two-factor login: TOTP (RFC 6238, with pyotp) and single-use recovery codes.

- Enrolment is two steps. `totp_enrol_start` (current password required) stores a new secret,
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
import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone

import pyotp
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.utils.crypto import salted_hmac
from mongoengine import NotUniqueError
from pymongo.errors import DuplicateKeyError
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import Token

from accounts.events.webhooks import event_emit
from accounts.users import lockout
from accounts.users.audit import audit_record
from accounts.sessions.authentication import TOKEN_VERSION_CLAIM, user_for_token
from accounts.mfa.documents import RevokedToken, TotpDevice
from accounts.users.documents import User, now
from common.exceptions import Conflict

RECOVERY_CODE_COUNT = 10
INVALID_CODE = "Invalid code."
ALREADY_ON = "Two-factor authentication is already on; turn it off first."
NOT_ON = "Two-factor authentication is not on."


class MfaToken(Token):
    """Proof that the password was right, good for one second-factor attempt series."""

    token_type = "mfa"
    lifetime = timedelta(minutes=5)  # replaced by MFA_TOKEN_SECONDS when issued


# --- The secret at rest ---------------------------------------------------------------------------
def _fernet() -> MultiFernet:
    """The first key encrypts; every key decrypts (so keys can be rotated: put the new one first)."""
    keys = list(settings.MFA_ENCRYPTION_KEYS)
    if not keys:
        # Derived from SECRET_KEY, as Django derives its own signing keys (salted HMAC, so this
        # key reveals nothing about SECRET_KEY and serves nothing else). Set MFA_ENCRYPTION_KEYS
        # in production so that SECRET_KEY can be rotated without losing every TOTP secret.
        # The salt is a fixed label: changing it would make every stored secret unreadable.
        digest = salted_hmac("accounts.two_factor", "totp-secret-encryption", secret=settings.SECRET_KEY, algorithm="sha256").digest()
        keys = [base64.urlsafe_b64encode(digest)]
    return MultiFernet([Fernet(key) for key in keys])


def _encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def _decrypt(stored: str) -> str | None:
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken:
        return None  # under a key no longer configured: no code can match


# --- Codes ---------------------------------------------------------------------------------------
def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret)


def _matching_step(secret: str, code: str, at: datetime | None = None) -> int | None:
    """The time step (of the current one and one either side) whose code is `code`, or None."""
    totp = _totp(secret)
    current = totp.timecode(at or datetime.now(timezone.utc))
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _recovery_normal(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(_recovery_normal(code).encode()).hexdigest()


def _recovery_codes_new() -> tuple[list[str], list[str]]:
    """Ten codes of 80 random bits (16 base32 letters, shown as four groups) and their hashes."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes, [_recovery_hash(code) for code in codes]


def _password_check(user: User, current_password: str) -> None:
    if not check_password(current_password, user.password):
        raise ValidationError({"current_password": ["The current password is not correct."]})


# --- Enrolment and management --------------------------------------------------------------------
def totp_enrol_start(*, user: User, current_password: str) -> tuple[str, str]:
    """Store a new TOTP secret for `user`, inactive until confirmed; return it and its
    `otpauth://` URI. Starting again before confirming replaces the pending secret. 409 when
    two-factor is on already (turning it off first needs the password)."""
    _password_check(user, current_password)
    if user.mfa_enabled:
        raise Conflict(ALREADY_ON)
    secret = pyotp.random_base32(32)  # 160 bits, as RFC 4226 recommends
    try:
        TotpDevice._get_collection().update_one(
            {"user": user.id, "confirmed": False},
            {
                "$set": {"secret": _encrypt(secret), "last_step": 0, "recovery_codes": [], "created_at": now()},
                "$setOnInsert": {"confirmed": False},
            },
            upsert=True,
        )
    except DuplicateKeyError:  # a confirmed device exists (the unique index on user says so)
        raise Conflict(ALREADY_ON) from None
    uri = _totp(secret).provisioning_uri(name=user.email, issuer_name=settings.MFA_TOTP_ISSUER)
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
    secret = _decrypt(device["secret"])
    step = _matching_step(secret, code) if secret else None
    if step is None:
        raise ValidationError({"code": [INVALID_CODE]})
    codes, hashes = _recovery_codes_new()
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


def totp_disable(*, user: User, current_password: str, ip: str | None = None) -> None:
    """Turn two-factor off (the secret and recovery codes are deleted). Safe to repeat."""
    _password_check(user, current_password)
    _mfa_off(user)
    audit_record(action="mfa_disabled", actor=user, target=user, ip=ip)


def mfa_reset(*, user: User, actor: User, ip: str | None = None) -> None:
    """An admin turns a user's two-factor off (a lost phone and lost codes). Audited."""
    _mfa_off(user)
    audit_record(action="mfa_reset", actor=actor, target=user, ip=ip)


def recovery_codes_regenerate(*, user: User, current_password: str, ip: str | None = None) -> list[str]:
    """Ten new recovery codes, shown once; the old ones stop working. 409 when two-factor is off."""
    _password_check(user, current_password)
    codes, hashes = _recovery_codes_new()
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


def _totp_accept(user: User, code: str) -> bool:
    """True once per time step: the conditional update on `last_step` has one winner."""
    collection = TotpDevice._get_collection()
    device = collection.find_one({"user": user.id, "confirmed": True}, {"secret": 1})
    secret = _decrypt(device["secret"]) if device else None
    step = _matching_step(secret, code) if secret else None
    if step is None:
        return False
    return bool(collection.update_one({"_id": device["_id"], "last_step": {"$lt": step}}, {"$set": {"last_step": step}}).modified_count)


def _recovery_accept(user: User, code: str) -> bool:
    """True once per recovery code: its hash is pulled by one atomic update."""
    digest = _recovery_hash(code)
    return bool(
        TotpDevice._get_collection()
        .update_one({"user": user.id, "confirmed": True, "recovery_codes": digest}, {"$pull": {"recovery_codes": digest}})
        .modified_count
    )


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
    accepted = _totp_accept(user, code) if code else _recovery_accept(user, recovery_code or "")
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
