"""Signing in with a passkey alone, and a passkey as the second factor of a password login.

- Passwordless: with no email, the browser offers the passkeys it holds for the rp id
  (discoverable credentials); with an email, the options list that account's credentials. An
  email of no account (or of one with no passkey) gets decoy credential ids derived from the
  email with a keyed hash, the same on every call, so the answer does not tell whether the
  account exists. User verification is required. The answer is the login's: a session and its
  token pair, with the lock-out, EMAIL_VERIFICATION and the audit as for a password login, and
  no second factor even with two-factor on: a passkey with user verification is already two
  factors (something the person has, unlocked by something they know or are).
- Second factor: the options list the user's credentials, bound to that login's mfa_token; user
  verification is not required there (the password was the other factor).

The signature counter: the library is given no stored counter (so it verifies the signature
first); then one conditional update raises the stored counter only if the new one is greater
(`sign_count < new`). A counter that did not go up means two copies of the authenticator exist
(a clone) or an old answer came back: the assertion is refused and the event is audited.
Authenticators that keep no counter report 0 every time, and are accepted while the stored
counter is 0 too (as the specification says).
"""
import hashlib
import hmac
import logging
from dataclasses import dataclass

from django.conf import settings
from rest_framework.exceptions import ValidationError
from webauthn import generate_authentication_options, verify_authentication_response
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_authentication_credential_json
from webauthn.helpers.structs import PublicKeyCredentialDescriptor, UserVerificationRequirement

from accounts.users import lockout
from accounts.users.documents import User, now
from accounts.users.identity import email_keys_for_lookup
from accounts.mfa.passkeys.challenges import ceremony_invalid, challenge_claim, challenge_store
from accounts.mfa.passkeys.documents import CEREMONY_LOGIN, CEREMONY_MFA, Passkey
from accounts.mfa.passkeys.relying_party import MALFORMED, not_accepted, options_body, origins
from accounts.users.audit import audit_record

logger = logging.getLogger(__name__)

CLONE_SUSPECTED = (
    "The authenticator's signature counter did not go up: this looks like a copy of the authenticator, "
    "or an old answer sent again. Refused."
)
DECOY_ID_BYTES = 32


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
    return options_body(ceremony, options)


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
    except MALFORMED as exc:
        raise not_accepted(str(exc)) from None
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
            expected_origin=origins(),
            credential_public_key=passkey.public_key,
            credential_current_sign_count=0,  # compared below, after the signature, atomically
            require_user_verification=user_verification,
        )
    except MALFORMED as exc:
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
    return not_accepted(exc.reason)


def passkey_login_check(*, ceremony: str, credential: dict, ip: str) -> tuple[User, dict]:
    """The passkey part of a passwordless login (accounts/users/login.py `passkey_login` does
    the rest, as for a password): the ceremony is spent, the passkey found, the lock-out
    consulted (429 before the signature is checked), the assertion verified with user
    verification. Returns the user and the lock-out's counts. A failed answer is a 400 and
    counts as a failed login (of the account when the passkey is known, of the address always)."""
    claimed = challenge_claim(ceremony=ceremony, kind=CEREMONY_LOGIN)
    assertion = assertion_parse(credential)
    passkey = passkey_of_assertion(assertion)
    user = User.objects(id=passkey.user.id).first() if passkey is not None else None
    if user is None or claimed.binding == "nobody" or (claimed.user_id is not None and claimed.user_id != user.id):
        lockout.login_guard_check(email_key="", ip=ip)  # the address's own limit still holds
        lockout.address_failure_record(ip=ip)
        audit_record(action="login_failed", target=user, ip=ip, factor="passkey", reason="unknown passkey")
        raise not_accepted("no such passkey for this ceremony")
    counts = lockout.login_guard_check(email_key=user.email_key, ip=ip)
    try:
        if not user.is_active or user.in_trash or user.deleting:
            raise AssertionRefused("no such passkey for this ceremony")
        assertion_verify(passkey=passkey, assertion=assertion, challenge=claimed.challenge, user_verification=True)
    except AssertionRefused as exc:
        lockout.login_failure_record(email_key=user.email_key, ip=ip, user_id=user.id)
        audit_record(action="login_failed", target=user, ip=ip, factor="passkey", reason=exc.reason[:200])
        raise _refused(exc, user=user, passkey=passkey, ip=ip, factor="passkey") from None
    return user, counts


def passkey_second_factor_accept(*, user: User, mfa_jti: str, ceremony: str, credential: dict, ip: str) -> None:
    """The second factor of a two-factor login, answered with one of `user`'s passkeys: the
    ceremony (bound to this mfa_token) is spent, then the assertion verified. A refusal is a
    400, counted as a failed login of the account and audited (a suspected clone under its own
    action too); on success the caller spends the mfa_token."""
    passkey = None
    try:
        claimed = challenge_claim(ceremony=ceremony, kind=CEREMONY_MFA)
        if claimed.user_id != user.id or not hmac.compare_digest(claimed.binding, mfa_jti):
            raise ceremony_invalid()
        assertion = assertion_parse(credential)
        passkey = passkey_of_assertion(assertion)
        if passkey is None or passkey.user.id != user.id:
            raise AssertionRefused("no such passkey for this account")
        assertion_verify(passkey=passkey, assertion=assertion, challenge=claimed.challenge, user_verification=False)
    except (ValidationError, AssertionRefused) as exc:
        lockout.login_failure_record(email_key=user.email_key, ip=ip, user_id=user.id)
        audit_record(action="login_failed", target=user, ip=ip, factor="webauthn")
        if isinstance(exc, AssertionRefused):
            raise _refused(exc, user=user, passkey=passkey, ip=ip, factor="webauthn") from None
        raise
