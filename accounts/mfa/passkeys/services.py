"""Passkeys (WebAuthn): adding them to an account, and managing them.

Registration is a ceremony of two calls: options (a signed-in user, re-asked for the password),
then the authenticator's attestation, verified by the `webauthn` library (relying_party.py)
against the challenge kept for that user and that session (challenges.py). Discoverable
credentials (resident keys) and user verification are required, so that a passkey can sign in
on its own (sign_in.py). Attestation `none` by default (WEBAUTHN_ATTESTATION).

Signing in with a passkey, and a passkey as the second factor, are in sign_in.py.
"""
import hmac

from bson import ObjectId
from django.conf import settings
from django.contrib.auth.hashers import is_password_usable
from mongoengine import NotUniqueError
from rest_framework.exceptions import NotFound
from webauthn import generate_registration_options, verify_registration_response
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from accounts.users.documents import User, as_utc, now
from accounts.mfa.passkeys.challenges import ceremony_invalid, challenge_claim, challenge_store
from accounts.mfa.passkeys.documents import CEREMONY_REGISTER, PASSKEY_NAME_MAX, Passkey
from accounts.mfa.passkeys.relying_party import MALFORMED, not_accepted, options_body, origins
from accounts.users import reauth
from accounts.users.audit import audit_record
from accounts.user_data.dependents import owner_remains
from common.exceptions import Conflict

# A user's passkeys at most (each one is listed in the options of every ceremony of theirs).
PASSKEYS_MAX_PER_USER = 20
LAST_WAY_IN = "This is the last way to sign in to this account (it has no password): add another passkey, or set a password, first."
TOO_MANY = f"An account holds at most {PASSKEYS_MAX_PER_USER} passkeys; remove one first."
ALREADY_REGISTERED = "This passkey is registered already."
NO_PASSKEY = "No passkey with this id."


# --- Registration -----------------------------------------------------------------------------
def passkey_registration_options(*, user: User, session_id: str, ip: str | None = None, **proof: str | None) -> dict:
    """Options for adding a passkey to `user`, once the re-authentication gate
    (accounts/users/reauth.py) lets `proof` through, bound to this user and this session. Their
    passkeys are excluded (an authenticator holding one says so rather than making a second).
    409 at PASSKEYS_MAX_PER_USER. Two round trips after the gate's."""
    reauth.reauthenticate(user=user, action="passkey_add", ip=ip, **proof)
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
    return options_body(ceremony, options)


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
            expected_origin=origins(),
            require_user_verification=True,
        )
    except MALFORMED as exc:
        audit_record(action="passkey_add_failed", actor=user, target=user, ip=ip, reason=str(exc)[:200])
        raise not_accepted(str(exc)) from None
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
    counted = users.update_one({"_id": user.id, **under_limit}, _count_moved(+1))
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
    if not users.update_one({"_id": user.id, "passkeys_count": {"$gt": keep}}, _count_moved(-1)).modified_count:
        raise Conflict(LAST_WAY_IN)
    if not passkeys.delete_one({"_id": ObjectId(passkey_id), "user": user.id}).deleted_count:
        users.update_one({"_id": user.id}, _count_moved(+1))
        raise NotFound(NO_PASSKEY)
    user.passkeys_count = max(0, (user.passkeys_count or 0) - 1)
    audit_record(action="passkey_removed", actor=actor, target=user, ip=ip, passkey=passkey_id)


def _count_moved(by: int) -> dict:
    """The update that moves a user's `passkeys_count`, stamped for `check_integrity`'s grace."""
    return {"$inc": {"passkeys_count": by}, "$set": {"passkeys_changed_at": now()}}


def passkeys_integrity_find(*, begun_before=None) -> dict[str, list]:
    """Users whose `passkeys_count` differs from their passkeys (a crash between a passkey's
    insert or delete and the count's update), for `check_integrity`. One aggregation and one
    query (and one more for each user found, with `begun_before`).

    `begun_before` (a datetime, check_integrity's grace): a user whose count moved since then, or
    who has a passkey added since then, is left out: an add (insert, then +1) or a removal (-1,
    then delete) may be between its two writes, and either differs by one until it ends."""
    counts = {row["_id"]: row["n"] for row in Passkey._get_collection().aggregate([{"$group": {"_id": "$user", "n": {"$sum": 1}}}])}
    users = User._get_collection().find(
        {"$or": [{"passkeys_count": {"$gt": 0}}, {"_id": {"$in": list(counts)}}]}, {"passkeys_count": 1, "passkeys_changed_at": 1}
    )
    wrong = [row for row in users if (row.get("passkeys_count") or 0) != counts.get(row["_id"], 0)]
    return {"users.passkeys_count": [row["_id"] for row in wrong if not _may_be_in_flight(row, begun_before)]}


def _may_be_in_flight(row: dict, begun_before) -> bool:
    """Whether an add or removal of the user's passkeys may still be between its two writes: the
    count (`row`, the user's stored count and stamp) moved, or a passkey was added, since
    `begun_before`. Never, without a grace (None)."""
    if begun_before is None:
        return False
    changed = row.get("passkeys_changed_at")
    if changed is not None and as_utc(changed) >= begun_before:
        return True
    recent = {"user": row["_id"], "_id": {"$gte": ObjectId.from_datetime(begun_before)}}
    return Passkey._get_collection().find_one(recent, {"_id": 1}) is not None


def passkeys_integrity_fix(found: dict[str, list], *, begun_before=None) -> dict[str, int]:
    """Recount the passkeys of the users `passkeys_integrity_find` named, each by one update
    conditional on the count (and its stamp) it read: an add or removal that moves the count
    meanwhile wins, and that user is left for the next run. With `begun_before`, a user who gained
    a passkey since then is skipped, and only passkeys older than it are counted, so an add that
    begins during the recount is counted by its own +1, not twice."""
    fixed = 0
    passkeys, users = Passkey._get_collection(), User._get_collection()
    for user_id in found.get("users.passkeys_count", []):
        row = users.find_one({"_id": user_id}, {"passkeys_count": 1, "passkeys_changed_at": 1})
        if row is None:
            continue
        if _may_be_in_flight(row, begun_before):
            continue
        mine = {"user": user_id}
        if begun_before is not None:
            mine["_id"] = {"$lt": ObjectId.from_datetime(begun_before)}
        n = passkeys.count_documents(mine)
        unchanged = {"_id": user_id, "passkeys_count": row.get("passkeys_count"), "passkeys_changed_at": row.get("passkeys_changed_at")}
        fixed += users.update_one(unchanged, {"$set": {"passkeys_count": n}}).modified_count
    return {"users.passkeys_count": fixed} if fixed else {}
