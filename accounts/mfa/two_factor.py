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
  accounts/users/lockout.py) and is a 400. The token is claimed first (its jti inserted into the
  revoked tokens, whose unique index decides races), before any code is looked at, so a spent
  token costs nothing (no recovery code burnt, no failure counted); a wrong code gives the claim
  back, so a typo does not send the person back to the password, and a right one keeps it spent.
  Its `ver` claim must match the user's `token_version`, which a password change or reset raises.
  Wrong second factors are capped in total per account (accounts/mfa/guess_cap.py, inside
  `factors.second_factor_accept`), and a pending enrolment takes MFA_ENROL_CONFIRM_ATTEMPTS codes.
- The secret is encrypted at rest with Fernet (AES-128-CBC and HMAC-SHA256, `cryptography`) under
  MFA_ENCRYPTION_KEYS (see config/settings/base.py); it appears in no response but the
  enrolment's, in no export and in no log line.
"""
from datetime import datetime, timedelta, timezone

import pyotp
from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from mongoengine import NotUniqueError
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError
from rest_framework.exceptions import AuthenticationFailed, NotFound, Throttled, ValidationError
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import Token

from accounts.events.webhooks import event_emit
from accounts.emails import notices
from accounts.mfa import factors
from accounts.mfa.factors import INVALID_CODE
from accounts.mfa.documents import RevokedToken, TotpDevice
from accounts.sessions.selectors import TOKEN_VERSION_CLAIM, user_for_token
from accounts.sessions.tokens import LoginOutcome, login_outcome
from accounts.users import lockout, reauth
from accounts.users.audit import audit_record
from accounts.users.guard import owner_guard
from accounts.users.guard import guarded
from accounts.users.documents import User, now
from accounts.mfa.passkeys.sign_in import passkey_second_factor_accept
from common.exceptions import Conflict

ALREADY_ON = "Two-factor authentication is already on; turn it off first."
NOT_ON = "Two-factor authentication is not on."
START_FIRST = "Start the enrolment first (POST /users/{user_id}/mfa/totp)."
TOO_MANY_CODES = "Too many wrong codes for this enrolment: start it again (POST /users/{user_id}/mfa/totp)."


class MfaToken(Token):
    """Proof that the password was right, good for one second-factor attempt series."""

    token_type = "mfa"
    lifetime = timedelta(minutes=5)  # replaced by MFA_TOKEN_SECONDS when issued


# --- Enrolment and management --------------------------------------------------------------------
@sensitive_variables("proof", "secret", "uri")
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
                "$set": {"secret": factors.secret_encrypt(secret), "last_step": 0, "recovery_codes": [], "confirm_attempts": 0, "created_at": now()},
                "$setOnInsert": {"confirmed": False},
            },
            upsert=True,
        )
    except DuplicateKeyError:  # a confirmed device exists (the unique index on user says so)
        raise Conflict(ALREADY_ON) from None
    guarded(user.id, TotpDevice, {"user": user.id, "confirmed": False})  # no secret left for a user being deleted
    uri = factors.totp_for(secret).provisioning_uri(name=user.email, issuer_name=settings.MFA_TOTP_ISSUER)
    return secret, uri


@sensitive_variables("code", "secret", "device", "codes", "hashes")
def totp_enrol_confirm(*, user: User, code: str, ip: str | None = None) -> list[str]:
    """Turn two-factor on with a code from the pending secret; return the ten recovery codes
    (only their hashes are kept). 400 for a wrong code or no pending enrolment, 409 when on.

    A pending enrolment takes at most MFA_ENROL_CONFIRM_ATTEMPTS codes: each attempt is counted
    on the device with one atomic `$inc` before its code is checked, and the attempt past the
    limit deletes the pending secret (400: start again, which passes the re-authentication gate,
    counted by the lock-out). So a stolen access token cannot brute-force an enrolment."""
    if user.mfa_enabled:
        raise Conflict(ALREADY_ON)
    collection = TotpDevice._get_collection()
    device = collection.find_one_and_update(
        {"user": user.id, "confirmed": False}, {"$inc": {"confirm_attempts": 1}}, return_document=ReturnDocument.AFTER
    )
    if device is None:
        if collection.count_documents({"user": user.id, "confirmed": True}, limit=1):  # a concurrent confirm won
            raise Conflict(ALREADY_ON)
        raise ValidationError({"code": [START_FIRST]})
    if device["confirm_attempts"] > settings.MFA_ENROL_CONFIRM_ATTEMPTS:
        collection.delete_one({"_id": device["_id"], "confirmed": False})
        raise ValidationError({"code": [TOO_MANY_CODES]})
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
    # After the change: its audit event, webhook event and mails, proven against a racing chain
    # delete together, by one read at the end (accounts/users/guard.py).
    with owner_guard(user.id):
        audit_record(action="mfa_enabled", actor=user, target=user, ip=ip, method="totp")
        event_emit("mfa.enabled", user_id=user.id, data={"method": "totp"})
        notices.security_notice_send(user=user, event=notices.MFA_ENABLED)
    return codes


def _mfa_off(user: User) -> None:
    """Two-factor off first (the flag login reads), then the device and its codes go."""
    User._get_collection().update_one({"_id": user.id}, {"$set": {"mfa_enabled": False, "updated_at": now()}})
    user.mfa_enabled = False
    TotpDevice._get_collection().delete_many({"user": user.id})
    event_emit("mfa.disabled", user_id=user.id)


@sensitive_variables("proof")
def totp_disable(*, user: User, ip: str | None = None, **proof: str | None) -> None:
    """Turn two-factor off (the secret and recovery codes are deleted), past the
    re-authentication gate. Safe to repeat."""
    reauth.reauthenticate(user=user, action="totp_disable", ip=ip, **proof)
    with owner_guard(user.id):  # the event, audit and notice proven together, by one read
        _mfa_off(user)
        audit_record(action="mfa_disabled", actor=user, target=user, ip=ip)
        notices.security_notice_send(user=user, event=notices.MFA_DISABLED)


@sensitive_variables("proof")
def mfa_reset(*, user: User, actor: User, ip: str | None = None, **proof: str | None) -> None:
    """An admin turns a user's two-factor off (a lost phone and lost codes). Audited, and the user
    is mailed a notice. An admin's own is turned off by the owner's rules (`totp_disable`: the
    re-authentication gate with `proof`), never by the access token alone (issue 21)."""
    if actor.id == user.id:
        totp_disable(user=user, ip=ip, **proof)
        return
    with owner_guard(user.id):  # the event, audit and notice proven together, by one read
        _mfa_off(user)
        audit_record(action="mfa_reset", actor=actor, target=user, ip=ip)
        notices.security_notice_send(user=user, event=notices.MFA_RESET)


@sensitive_variables("proof", "codes", "hashes")
def recovery_codes_regenerate(*, user: User, ip: str | None = None, **proof: str | None) -> list[str]:
    """Ten new recovery codes, shown once; the old ones stop working (past the re-authentication
    gate). 409 when two-factor is off."""
    reauth.reauthenticate(user=user, action="recovery_codes", ip=ip, **proof)
    codes, hashes = factors.recovery_codes_new()
    replaced = TotpDevice._get_collection().update_one({"user": user.id, "confirmed": True}, {"$set": {"recovery_codes": hashes}})
    if not (user.mfa_enabled and replaced.matched_count):
        raise Conflict(NOT_ON)
    with owner_guard(user.id):  # the audit event and the notice proven together, by one read
        audit_record(action="mfa_recovery_codes_regenerated", actor=user, target=user, ip=ip)
        notices.security_notice_send(user=user, event=notices.RECOVERY_CODES)
    return codes


# --- Login's second step -------------------------------------------------------------------------
def mfa_token_issue(*, user: User) -> str:
    token = MfaToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=settings.MFA_TOKEN_SECONDS))
    token[TOKEN_VERSION_CLAIM] = user.token_version
    return str(token)


def _mfa_token_claim(token: MfaToken, user: User) -> None:
    """Claim the mfa_token before anything else is done with it: its jti inserted into the spent
    tokens (the unique index decides races). 401 when it is spent already, or claimed by a
    request still running: a spent token costs the account nothing (no recovery code, no TOTP
    step, no failure counted; issue 21)."""
    expires_at = datetime.fromtimestamp(token["exp"], tz=timezone.utc)
    try:
        RevokedToken(jti=token["jti"], user=user.id, expires_at=expires_at).save(force_insert=True)
    except NotUniqueError:
        raise AuthenticationFailed("Token is revoked.", code="token_not_valid") from None


def _mfa_token_unclaim(token: MfaToken) -> None:
    """Give a claimed mfa_token back (a wrong code or a refusal): a typo does not send the person
    back to the password. A crash before this leaves it spent, the safe side."""
    RevokedToken._get_collection().delete_one({"jti": token["jti"]})


@sensitive_variables("raw_token", "code", "recovery_code", "token")
def mfa_second_factor_check(*, raw_token: str, code: str | None = None, recovery_code: str | None = None, ip: str, webauthn=None) -> User:
    """The second step of a two-factor login: with a right code, unused recovery code or passkey
    answer (`webauthn=(ceremony, credential)`, accounts/mfa/passkeys/sign_in.py), spend the
    mfa_token and return its user, for whom login then begins a session.

    In this order, each before anything costlier or visible: the token's signature, expiry and
    user, with its `ver` claim against the user's `token_version` (a password change or reset
    raises it, so a token taken with the old password is a 401); the token claimed (401 if spent:
    nothing counted, nothing used up); the lock-out (429); then the code, whose check first
    reserves one of the account's wrong second factors for the day (`factors.second_factor_accept`,
    429 past MFA_FAILURE_LIMIT_PER_DAY). A wrong, replayed or used code is a 400 counted as a
    failed login, and the token is given back; a right one keeps it spent."""
    try:
        token = MfaToken(raw_token)
    except TokenError as exc:
        raise AuthenticationFailed(str(exc), code="token_not_valid") from exc
    user = user_for_token(token, session_required=False)
    _mfa_token_claim(token, user)
    factor = "totp" if code else "webauthn" if webauthn else "recovery_code"
    try:
        counts = lockout.login_attempt_reserve(email_key=user.email_key, ip=ip, user_id=user.id)  # counted before the check
        accepted = webauthn is not None or factors.second_factor_accept(user=user, code=code, recovery_code=recovery_code)
        if webauthn:  # a passkey's answer, refused with its own 400 (its failure counted and audited there)
            passkey_second_factor_accept(user=user, mfa_jti=token["jti"], ceremony=webauthn[0], credential=webauthn[1], ip=ip)
    except (Throttled, ValidationError):
        _mfa_token_unclaim(token)
        raise
    if not accepted:
        _mfa_token_unclaim(token)
        audit_record(action="login_failed", target=user, ip=ip, factor=factor)
        raise ValidationError({"code" if code else "recovery_code": [INVALID_CODE]})
    lockout.login_attempt_succeeded(counts)
    audit_record(action="login", actor=user, target=user, ip=ip, factor=factor)
    return user


def mfa_token_user(*, raw_token: str) -> tuple[User, str]:
    """The user and jti of a login's pending mfa_token; 401 when it is bad, expired or spent."""
    try:
        token = MfaToken(raw_token)
    except TokenError as exc:
        raise AuthenticationFailed(str(exc), code="token_not_valid") from exc
    user = user_for_token(token, session_required=False)
    if RevokedToken._get_collection().find_one({"jti": token["jti"]}, {"_id": 1}) is not None:
        raise AuthenticationFailed("Token is revoked.", code="token_not_valid")
    return user, token["jti"]


def mfa_methods(*, user: User) -> list[str]:
    """The second factors of a user with two-factor on: the TOTP code, a passkey if they have
    one (accounts/mfa/passkeys), a recovery code."""
    return ["totp", *(["webauthn"] if getattr(user, "passkeys_count", 0) else []), "recovery_code"]


INVALID_MFA_LOGIN = "Invalid email or password."  # as login answers: the account is gone


@sensitive_variables("raw_token", "code", "recovery_code")
def mfa_login(
    *, raw_token: str, code: str | None = None, recovery_code: str | None = None, webauthn: tuple[str, dict] | None = None, ip: str, user_agent: str = ""
) -> LoginOutcome:
    """The second step of a two-factor login: with a right code, an unused recovery code or a
    passkey's answer, the mfa_token is spent and a session begins (its token pair is the outcome)."""
    try:
        # One owner guard for the lock-out's counter, the spent token, the audit event and the
        # session: proven by the session's conditional update of the user (accounts/users/guard.py).
        with owner_guard(None):
            user = mfa_second_factor_check(raw_token=raw_token, code=code, recovery_code=recovery_code, webauthn=webauthn, ip=ip)
            return login_outcome(user, ip=ip, user_agent=user_agent)
    except NotFound:
        raise AuthenticationFailed(INVALID_MFA_LOGIN) from None
