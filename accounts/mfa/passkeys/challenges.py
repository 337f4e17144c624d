"""The challenges of WebAuthn ceremonies: made by the service, kept in MongoDB, used once.

A ceremony starts with options holding a fresh random challenge (the library's 64 bytes) and
ends with the authenticator's answer, which signs it. Between the two the challenge waits here,
not in the process (any process may get the answer) and not in the client (which could forge
one). The client holds only the opaque `ceremony` id.

- Single use: `challenge_claim` reads the challenge and deletes it, and goes on only if its own
  delete removed it; of two requests presenting one ceremony, one goes on and the other is a
  400. The claim comes before any verification, so a failed answer spends the ceremony too.
  (A read-then-delete rather than one findAndModify: SecantusDB's findAndModify is not atomic
  under concurrency, DESIGN.md; the delete's count is.)
- Short-lived: WEBAUTHN_CHALLENGE_SECONDS (5 minutes), checked at the claim against the clock;
  the TTL index only removes the leftovers.
- Bound: to its kind (a login's challenge cannot finish a registration), to the account it is
  for, and to what started it (the session of a registration, the mfa_token of a second
  factor). The services compare those after the claim.
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from bson import ObjectId
from django.conf import settings
from rest_framework.exceptions import ValidationError

from accounts.users.documents import as_utc, now
from accounts.mfa.passkeys.documents import WebAuthnChallenge

CEREMONY_INVALID = "This ceremony is unknown, expired, already used or not for this request; ask for new options."


@dataclass(frozen=True)
class Claimed:
    kind: str
    challenge: bytes
    user_id: ObjectId | None
    binding: str


def _stored_id(ceremony: str) -> str:
    return hashlib.sha256(ceremony.encode()).hexdigest()


def ceremony_invalid() -> ValidationError:
    return ValidationError({"ceremony": [CEREMONY_INVALID]})


def challenge_store(*, kind: str, challenge: bytes, user_id: ObjectId | None = None, binding: str = "") -> str:
    """Keep `challenge` for one ceremony of `kind`; return the ceremony id for the client.
    One insert."""
    ceremony = secrets.token_urlsafe(32)
    WebAuthnChallenge(
        id=_stored_id(ceremony),
        kind=kind,
        challenge=challenge,
        user=user_id,
        binding=binding,
        expires_at=now() + timedelta(seconds=settings.WEBAUTHN_CHALLENGE_SECONDS),
    ).save(force_insert=True)
    return ceremony


def challenge_claim(*, ceremony: str, kind: str) -> Claimed:
    """Take the challenge of `ceremony` out of the store, for good. 400 when it is unknown, of
    another kind, expired, or claimed by another request first. Two round trips."""
    collection = WebAuthnChallenge._get_collection()
    query = {"_id": _stored_id(ceremony), "kind": kind}
    doc = collection.find_one(query)
    if doc is None or collection.delete_one(query).deleted_count != 1:
        raise ceremony_invalid()
    if as_utc(doc["expires_at"]) <= now():
        raise ceremony_invalid()
    return Claimed(kind=doc["kind"], challenge=bytes(doc["challenge"]), user_id=doc.get("user"), binding=doc.get("binding") or "")
