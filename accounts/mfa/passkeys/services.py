"""Passkeys (WebAuthn): registering them, managing them, and the ceremonies that use them.

The verification is the `webauthn` library's (Duo Labs): it parses the CBOR and COSE, checks the
challenge, the origin (one of WEBAUTHN_ORIGINS), the rp id hash (WEBAUTHN_RP_ID), the flags
(user present; user verified where required) and the signature. This module adds what only the
service knows: which challenge was issued (accounts/mfa/passkeys/challenges.py, single-use), whom
and what it was issued for, which credential belongs to whom, and the signature counter.

Three ceremonies, each an options call and an answer:
- registration (a signed-in user, re-asked for the password): the answer is the
  authenticator's attestation; the credential is stored with its public key. Discoverable
  credentials (resident keys) and user verification are required, so that a passkey can sign
  in on its own. Attestation `none` by default (WEBAUTHN_ATTESTATION).
- passwordless login: with no email, the browser offers the passkeys it has for the rp id
  (discoverable credentials); with an email, the options list that account's credentials. An
  email of no account (or of one with no passkey) gets decoy credential ids derived from the
  email with a keyed hash, the same on every call, so the answer does not tell whether the
  account exists. User verification is required. The answer is the login's: a session and its
  token pair, with the lock-out, EMAIL_VERIFICATION and the audit as for a password login, and
  no second factor even with two-factor on: a passkey with user verification is already two
  factors (something the person has, unlocked by something they know or are).
- second factor (a password login of a user with two-factor on): the options list the user's
  credentials, bound to that login's mfa_token; user verification is not required there (the
  password was the other factor).

The signature counter: the library is given no stored counter (so it verifies the signature
first); then one conditional update raises the stored counter only if the new one is greater
(`sign_count < new`). A counter that did not go up means two copies of the authenticator exist
(a clone) or an old answer came back: the assertion is refused and the event is audited.
Authenticators that keep no counter report 0 every time, and are accepted while the stored
counter is 0 too (as the specification says).
"""
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass

from bson import ObjectId
from django.conf import settings
from django.contrib.auth.hashers import is_password_usable
from mongoengine import NotUniqueError
from rest_framework.exceptions import NotFound, ValidationError
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_authentication_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from accounts import lockout
from accounts.documents import User, now
from accounts.identity import email_keys_for_lookup
from accounts.mfa.passkeys.challenges import challenge_claim, challenge_store, ceremony_invalid
from accounts.mfa.passkeys.documents import (
    CEREMONY_LOGIN,
    CEREMONY_MFA,
    CEREMONY_REGISTER,
    PASSKEY_NAME_MAX,
    Passkey,
)
from accounts.services.audit import audit_record
from accounts.services.dependents import owner_remains
from common.exceptions import Conflict

logger = logging.getLogger(__name__)

# A user's passkeys at most (each one is listed in the options of every ceremony of theirs).
PASSKEYS_MAX_PER_USER = 20
NOT_ACCEPTED = "The passkey's answer was not accepted"
CLONE_SUSPECTED = (
    "The authenticator's signature counter did not go up: this looks like a copy of the authenticator, "
    "or an old answer sent again. Refused."
)
LAST_WAY_IN = "This is the last way to sign in to this account (it has no password): add another passkey, or set a password, first."
TOO_MANY = f"An account holds at most {PASSKEYS_MAX_PER_USER} passkeys; remove one first."
ALREADY_REGISTERED = "This passkey is registered already."
NO_PASSKEY = "No passkey with this id."
DECOY_ID_BYTES = 32

# Whatever a malformed answer makes the parsing raise: a 400, never a 500.
_MALFORMED = (WebAuthnException, ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)


# --- Settings ---------------------------------------------------------------------------------
def _origins() -> list[str]:
    return [origin.rstrip("/") for origin in settings.WEBAUTHN_ORIGINS]


def _options_body(ceremony: str, options) -> dict:
    """`{"ceremony", "publicKey"}`: the options in the WebAuthn Level 3 JSON form
    (PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON read it)."""
    return {"ceremony": ceremony, "publicKey": json.loads(options_to_json(options))}


def _not_accepted(reason: str) -> ValidationError:
    return ValidationError({"credential": [f"{NOT_ACCEPTED}: {reason}"]})


# --- Registration -----------------------------------------------------------------------------
def passkey_registration_options(*, user: User, session_id: str) -> dict:
    """Options for adding a passkey to `user` (who has just been re-asked for their password),
    bound to this user and this session. Their passkeys are excluded (an authenticator holding
    one says so rather than making a second). 409 at PASSKEYS_MAX_PER_USER. Two round trips."""
    if (user.passkeys_count or 0) >= PASSKEYS_MAX_PER_USER:
        raise Conflict(TOO_MANY)
    existing = Passkey._get_collection().find({"user": user.id}, {"credential_id": 1})
    options = generate_registration_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        rp_name=settings.WEBAUTHN_RP_NAME,
        user_id=user.id.binary,  # the user handle: the account's id, nothing personal
        user_name=user.email,
        user_display_name=user.username,
        timeout=settings.WEBAUTHN_CHALLENGE_SECONDS * 1000,
        attestation=AttestationConveyancePreference(settings.WEBAUTHN_ATTESTATION),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(row["credential_id"])) for row in existing],
    )
    ceremony = challenge_store(kind=CEREMONY_REGISTER, challenge=options.challenge, user_id=user.id, binding=session_id)
    return _options_body(ceremony, options)


def _default_name() -> str:
    return f"Passkey of {now():%Y-%m-%d %H:%M} UTC"


def passkey_register(*, user: User, session_id: str, ceremony: str, credential: dict, name: str = "", ip: str | None = None) -> Passkey:
    """Store the passkey an authenticator made for `ceremony`. The ceremony is spent first (a
    second answer to it is a 400), and must have been started by this user in this session.
    400 when the library refuses the attestation (wrong origin or rp id, no user verification,
    a bad signature, another ceremony's challenge); 409 when the credential is registered
    already (the unique index decides) or the user holds PASSKEYS_MAX_PER_USER. Audited.

    Writes: the passkey, then `passkeys_count` +1 if under the limit (else the passkey goes
    again); then the owner-remains check of a concurrent chain delete (accounts/services/
    dependents.py)."""
    claimed = challenge_claim(ceremony=ceremony, kind=CEREMONY_REGISTER)
    if claimed.user_id != user.id or not hmac.compare_digest(claimed.binding, session_id or ""):
        raise ceremony_invalid()
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=claimed.challenge,
            expected_rp_id=settings.WEBAUTHN_RP_ID,
            expected_origin=_origins(),
            require_user_verification=True,
        )
    except _MALFORMED as exc:
        audit_record(action="passkey_add_failed", actor=user, target=user, ip=ip, reason=str(exc)[:200])
        raise _not_accepted(str(exc)) from None
    transports = credential.get("response", {}).get("transports") or []
    passkey = Passkey(
        user=user.id,
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[str(t)[:32] for t in transports if isinstance(t, str)][:8],
        aaguid=verified.aaguid,
        backed_up=verified.credential_backed_up,
        device_type=str(getattr(verified.credential_device_type, "value", verified.credential_device_type)),
        name=(name or _default_name())[:PASSKEY_NAME_MAX],
    )
    try:
        passkey.save(force_insert=True)
    except NotUniqueError:
        raise Conflict(ALREADY_REGISTERED) from None
    users = User._get_collection()
    under_limit = {"$or": [{"passkeys_count": {"$lt": PASSKEYS_MAX_PER_USER}}, {"passkeys_count": {"$exists": False}}]}
    counted = users.update_one({"_id": user.id, **under_limit}, {"$inc": {"passkeys_count": 1}})
    if not counted.modified_count:
        Passkey._get_collection().delete_one({"_id": passkey.id})
        raise Conflict(TOO_MANY)
    if not owner_remains(user_id=user.id):
        # A chain delete of the user began meanwhile: take this passkey away with it.
        Passkey._get_collection().delete_one({"_id": passkey.id})
        raise NotFound("No user with this id.")
    user.passkeys_count = (user.passkeys_count or 0) + 1
    audit_record(action="passkey_added", actor=user, target=user, ip=ip, passkey=str(passkey.id))
    return passkey


# --- Management -------------------------------------------------------------------------------
def passkey_get(*, user: User, passkey_id: str) -> Passkey:
    """One of `user`'s passkeys, or 404 (a malformed id, or another user's passkey)."""
    if not ObjectId.is_valid(passkey_id):
        raise NotFound(NO_PASSKEY)
    passkey = Passkey.objects(id=passkey_id, user=user.id).no_dereference().first()
    if passkey is None:
        raise NotFound(NO_PASSKEY)
    return passkey


def passkey_rename(*, user: User, passkey_id: str, name: str) -> Passkey:
    """Give one of `user`'s passkeys a new name (1-64 characters). 404 if it is not theirs."""
    if not ObjectId.is_valid(passkey_id):
        raise NotFound(NO_PASSKEY)
    passkey = Passkey.objects(id=passkey_id, user=user.id).no_dereference().modify(new=True, set__name=name)
    if passkey is None:
        raise NotFound(NO_PASSKEY)
    return passkey


def passkey_remove(*, user: User, passkey_id: str, actor: User, ip: str | None = None) -> None:
    """Remove one of `user`'s passkeys (by the owner or an admin). Audited.

    The last way in stays: a user with no usable password (an account made by a provider,
    before any password reset) keeps at least one passkey; 409 otherwise. The count is taken
    down first, by one conditional update that holds the rule under races (two removals of a
    user's last two passkeys: one of them is a 409), then the passkey goes; if it was gone
    already (a concurrent removal of the same one), the count is given back and the answer is 404.
    """
    if not ObjectId.is_valid(passkey_id):
        raise NotFound(NO_PASSKEY)
    passkeys = Passkey._get_collection()
    if passkeys.find_one({"_id": ObjectId(passkey_id), "user": user.id}, {"_id": 1}) is None:
        raise NotFound(NO_PASSKEY)
    keep = 0 if is_password_usable(user.password) else 1
    users = User._get_collection()
    if not users.update_one({"_id": user.id, "passkeys_count": {"$gt": keep}}, {"$inc": {"passkeys_count": -1}}).modified_count:
        raise Conflict(LAST_WAY_IN)
    if not passkeys.delete_one({"_id": ObjectId(passkey_id), "user": user.id}).deleted_count:
        users.update_one({"_id": user.id}, {"$inc": {"passkeys_count": 1}})
        raise NotFound(NO_PASSKEY)
    user.passkeys_count = max(0, (user.passkeys_count or 0) - 1)
    audit_record(action="passkey_removed", actor=actor, target=user, ip=ip, passkey=passkey_id)


def passkeys_integrity_find() -> dict[str, list]:
    """Users whose `passkeys_count` differs from their passkeys (a crash between a passkey's
    insert or delete and the count's update), for `check_integrity`. One aggregation and one
    query."""
    counts = {row["_id"]: row["n"] for row in Passkey._get_collection().aggregate([{"$group": {"_id": "$user", "n": {"$sum": 1}}}])}
    users = User._get_collection().find({"$or": [{"passkeys_count": {"$gt": 0}}, {"_id": {"$in": list(counts)}}]}, {"passkeys_count": 1})
    wrong = [row["_id"] for row in users if (row.get("passkeys_count") or 0) != counts.get(row["_id"], 0)]
    return {"users.passkeys_count": wrong}


def passkeys_integrity_fix(found: dict[str, list]) -> dict[str, int]:
    """Recount the passkeys of the users `passkeys_integrity_find` named."""
    fixed = 0
    for user_id in found.get("users.passkeys_count", []):
        n = Passkey._get_collection().count_documents({"user": user_id})
        fixed += User._get_collection().update_one({"_id": user_id}, {"$set": {"passkeys_count": n}}).modified_count
    return {"users.passkeys_count": fixed} if fixed else {}


# --- Assertions: passwordless login and second factor -----------------------------------------
def _decoy_ids(email_key: str) -> list[bytes]:
    """One or two credential ids for an email of no account (or of one without passkeys), the
    same on every call: a keyed hash of the email (SECRET_KEY), unrelated to any real id."""
    seed = hmac.new(settings.SECRET_KEY.encode(), f"passkey-decoy:{email_key}".encode(), hashlib.sha256).digest()
    return [hashlib.sha256(seed + bytes([i])).digest()[:DECOY_ID_BYTES] for i in range(1 + seed[0] % 2)]


def _request_options(*, kind: str, credential_ids: list[bytes], user_verification, user_id=None, binding: str = "") -> dict:
    options = generate_authentication_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        timeout=settings.WEBAUTHN_CHALLENGE_SECONDS * 1000,
        # No transports: a decoy's descriptor must look like a real one.
        allow_credentials=[PublicKeyCredentialDescriptor(id=i) for i in credential_ids],
        user_verification=user_verification,
    )
    ceremony = challenge_store(kind=kind, challenge=options.challenge, user_id=user_id, binding=binding)
    return _options_body(ceremony, options)


def passkey_login_options(*, email: str | None = None) -> dict:
    """Options for signing in with a passkey alone. Without `email`: an empty allow list (the
    browser offers the passkeys it holds for the rp id). With one: that account's credentials,
    or decoys if it has none or does not exist; the answer has the same shape and costs the
    same queries either way. Three round trips."""
    if not email:
        return _request_options(kind=CEREMONY_LOGIN, credential_ids=[], user_verification=UserVerificationRequirement.REQUIRED)
    keys = email_keys_for_lookup(email)
    row = User._get_collection().find_one({"email_key": {"$in": keys}, "in_trash": {"$ne": True}}, {"_id": 1})
    user_id = row["_id"] if row else None
    ids = [base64url_to_bytes(r["credential_id"]) for r in Passkey._get_collection().find({"user": user_id}, {"credential_id": 1})]
    return _request_options(
        kind=CEREMONY_LOGIN,
        credential_ids=ids or _decoy_ids(keys[0]),
        user_verification=UserVerificationRequirement.REQUIRED,
        user_id=user_id,
        # An email of no account binds the ceremony to nobody: no credential can finish it.
        binding="" if user_id else "nobody",
    )


def mfa_token_user(*, raw_token: str) -> tuple[User, str]:
    """The user and jti of a login's pending mfa_token; 401 when it is bad, expired or spent."""
    from rest_framework.exceptions import AuthenticationFailed
    from rest_framework_simplejwt.exceptions import TokenError

    from accounts.authentication import user_for_token
    from accounts.documents import RevokedToken
    from accounts.services.two_factor import MfaToken

    try:
        token = MfaToken(raw_token)
    except TokenError as exc:
        raise AuthenticationFailed(str(exc), code="token_not_valid") from exc
    user = user_for_token(token, session_required=False)
    if RevokedToken.objects(jti=token["jti"]).count():
        raise AuthenticationFailed("Token is revoked.", code="token_not_valid")
    return user, token["jti"]


def passkey_mfa_options(*, user: User, mfa_jti: str) -> dict:
    """Options for answering a two-factor login with one of `user`'s passkeys, bound to the
    login's mfa_token (by its jti). 400 when the user has no passkey."""
    ids = [base64url_to_bytes(r["credential_id"]) for r in Passkey._get_collection().find({"user": user.id}, {"credential_id": 1})]
    if not ids:
        raise ValidationError({"mfa_token": ["This account has no passkey; answer with a code."]})
    return _request_options(
        kind=CEREMONY_MFA,
        credential_ids=ids,
        user_verification=UserVerificationRequirement.PREFERRED,
        user_id=user.id,
        binding=mfa_jti,
    )


@dataclass
class Assertion:
    """A passkey's answer, parsed but not yet verified: its credential id and user handle."""

    credential_id: str
    user_handle: bytes | None
    raw: dict


def assertion_parse(credential: dict) -> Assertion:
    """Read the credential id out of an assertion (a 400 if it is malformed)."""
    try:
        parsed = parse_authentication_credential_json(credential)
    except _MALFORMED as exc:
        raise _not_accepted(str(exc)) from None
    return Assertion(credential_id=bytes_to_base64url(parsed.raw_id), user_handle=parsed.response.user_handle, raw=credential)


def passkey_of_assertion(assertion: Assertion) -> Passkey | None:
    """The stored passkey the assertion names (its `user` left as a reference: one query)."""
    return Passkey.objects(credential_id=assertion.credential_id).no_dereference().first()


class AssertionRefused(Exception):
    """The passkey's answer failed a check; `reason` says which (for the 400 and the audit)."""

    def __init__(self, reason: str, *, clone: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.clone = clone


def assertion_verify(*, passkey: Passkey, assertion: Assertion, challenge: bytes, user_verification: bool) -> None:
    """Verify the assertion with the library against the stored public key, then raise the
    stored counter (one conditional update) and note the use. AssertionRefused when the
    library refuses it, when the user handle is another account's, or when the counter did not
    go up (`clone=True`)."""
    if assertion.user_handle is not None and assertion.user_handle != passkey.user.id.binary:
        raise AssertionRefused("the user handle is not this passkey's account")
    try:
        verified = verify_authentication_response(
            credential=assertion.raw,
            expected_challenge=challenge,
            expected_rp_id=settings.WEBAUTHN_RP_ID,
            expected_origin=_origins(),
            credential_public_key=passkey.public_key,
            credential_current_sign_count=0,  # compared below, after the signature, atomically
            require_user_verification=user_verification,
        )
    except _MALFORMED as exc:
        raise AssertionRefused(str(exc)) from None
    new = verified.new_sign_count
    used = {"last_used_at": now(), "backed_up": verified.credential_backed_up}
    collection = Passkey._get_collection()
    if new == 0:
        # An authenticator that keeps no counter: fine while it never had one.
        done = collection.update_one({"_id": passkey.id, "sign_count": 0}, {"$set": used})
    else:
        done = collection.update_one({"_id": passkey.id, "sign_count": {"$lt": new}}, {"$set": {**used, "sign_count": new}})
    if not done.matched_count:
        raise AssertionRefused(CLONE_SUSPECTED, clone=True)


def _refused(exc: AssertionRefused, *, user: User | None, passkey: Passkey | None, ip: str, factor: str) -> ValidationError:
    """Audit a refused assertion (a suspected clone under its own action) and make its 400."""
    if exc.clone:
        audit_record(action="passkey_clone_suspected", target=user, ip=ip, passkey=str(passkey.id), factor=factor)
        logger.warning("passkey %s of user %s: signature counter did not go up (clone suspected)", passkey.id, user.id)
        return ValidationError({"credential": [exc.reason]})
    return _not_accepted(exc.reason)


def passkey_login(*, ceremony: str, credential: dict, ip: str, user_agent: str = ""):
    """Sign in with a passkey alone (see the module docstring). Returns the login's outcome: a
    session's tokens. The ceremony is spent first. A failed answer is a 400 and counts as a
    failed login (of the account when the passkey is known, of the address always); past the
    lock-out's limits the answer is 429, before the signature is checked. An unverified
    account under EMAIL_VERIFICATION=mandatory is a 403 after the right answer."""
    from accounts.services.email_verification import login_verification_check
    from accounts.services.login import LoginOutcome
    from accounts.services.tokens import token_pair_for

    claimed = challenge_claim(ceremony=ceremony, kind=CEREMONY_LOGIN)
    assertion = assertion_parse(credential)
    passkey = passkey_of_assertion(assertion)
    user = User.objects(id=passkey.user.id).first() if passkey is not None else None
    if user is None or claimed.binding == "nobody" or (claimed.user_id is not None and claimed.user_id != user.id):
        lockout.login_guard_check(email_key="", ip=ip)  # the address's own limit still holds
        lockout.address_failure_record(ip=ip)
        audit_record(action="login_failed", target=user, ip=ip, factor="passkey", reason="unknown passkey")
        raise _not_accepted("no such passkey for this ceremony")
    counts = lockout.login_guard_check(email_key=user.email_key, ip=ip)
    try:
        if not user.is_active or user.in_trash or user.deleting:
            raise AssertionRefused("no such passkey for this ceremony")
        assertion_verify(passkey=passkey, assertion=assertion, challenge=claimed.challenge, user_verification=True)
    except AssertionRefused as exc:
        lockout.login_failure_record(email_key=user.email_key, ip=ip, user_id=user.id)
        audit_record(action="login_failed", target=user, ip=ip, factor="passkey", reason=exc.reason[:200])
        raise _refused(exc, user=user, passkey=passkey, ip=ip, factor="passkey") from None
    login_verification_check(user=user)
    lockout.login_failures_clear(email_key=user.email_key, ip=ip, counts=counts)
    # A passkey with user verification is two factors on its own: no mfa_token step.
    audit_record(action="login", actor=user, target=user, ip=ip, factor="passkey", passkey=str(passkey.id))
    return LoginOutcome(user=user, refresh=token_pair_for(user, ip=ip, user_agent=user_agent))


def passkey_second_factor_accept(*, user: User, mfa_jti: str, ceremony: str, credential: dict, ip: str) -> None:
    """The second factor of a two-factor login, answered with one of `user`'s passkeys: the
    ceremony (bound to this mfa_token) is spent, then the assertion verified. Raises the 400 of
    a refused answer (after auditing a suspected clone); the caller counts it as a failed login
    and spends the mfa_token on success."""
    claimed = challenge_claim(ceremony=ceremony, kind=CEREMONY_MFA)
    if claimed.user_id != user.id or not hmac.compare_digest(claimed.binding, mfa_jti):
        raise ceremony_invalid()
    assertion = assertion_parse(credential)
    passkey = passkey_of_assertion(assertion)
    try:
        if passkey is None or passkey.user.id != user.id:
            raise AssertionRefused("no such passkey for this account")
        assertion_verify(passkey=passkey, assertion=assertion, challenge=claimed.challenge, user_verification=False)
    except AssertionRefused as exc:
        raise _refused(exc, user=user, passkey=passkey, ip=ip, factor="webauthn") from None
