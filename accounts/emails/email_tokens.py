"""Tokens sent by email (address verification, password reset): issued, looked up, spent; and
the link and lifetime a mail shows for one (`link_for`, `duration_text`), shared by both flows.

Guarantees:
- A token is 256 random bits (`secrets.token_urlsafe(32)`). Only its SHA-256 is stored: the
  token itself exists in the mail and nowhere else (not in the database, a log, an export or a
  response). With that much entropy a fast hash is enough; there is nothing to brute-force.
- One live token per user and purpose. Issuing one overwrites the previous in a single upsert
  on the unique (user, purpose) index, so a newer request voids every older token at once.
- Single use. Spending deletes the document; of two concurrent spends of one token exactly one
  deletes it (`deleted_count` decides), and only that caller goes on.
- Expiry is checked on every lookup; the TTL index on `expires_at` removes expired documents
  within about a minute.
- The tokens (`documents.EmailToken`) belong to their user (`ReferenceField(User,
  reverse_delete_rule=CASCADE)`): the chain delete, the export (which leaves the hash out) and
  `check_integrity` reach them.
"""
import hashlib
import secrets
from datetime import timedelta

from pymongo.errors import DuplicateKeyError

from accounts.users.guard import guarded
from accounts.emails.documents import EMAIL_TOKEN_PURPOSES, EmailToken
from accounts.users.documents import now

VERIFY, RESET = EMAIL_TOKEN_PURPOSES
# Longer input cannot be one of ours; refusing it early keeps hashing cheap.
TOKEN_MAX_LENGTH = 128
# The one answer for a token that is wrong, expired or spent, whatever its purpose.
INVALID_TOKEN = "This token is invalid, expired or already used."


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_issue(*, user_id, purpose: str, email: str, lifetime: timedelta) -> str:
    """A new token for `user_id` and `purpose`, replacing (voiding) any earlier one. Returns the
    token, which the caller puts in a mail and nowhere else. One round trip."""
    token = secrets.token_urlsafe(32)
    issued = now()
    fields = {"token_hash": _hash(token), "email": email, "created_at": issued, "expires_at": issued + lifetime}
    collection = EmailToken._get_collection()
    query = {"user": user_id, "purpose": purpose}
    try:
        collection.update_one(query, {"$set": fields}, upsert=True)
    except DuplicateKeyError:
        # Two first issues raced to insert; the document exists now, and the later write wins.
        collection.update_one(query, {"$set": fields})
    guarded(user_id, EmailToken, {**query, "token_hash": fields["token_hash"]})  # no token for a user being deleted
    return token


def token_find(*, token: str, purpose: str) -> dict | None:
    """The live (unexpired, unspent) token record as stored, or None. Does not spend it.
    One round trip."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    return EmailToken._get_collection().find_one(
        {"token_hash": _hash(token), "purpose": purpose, "expires_at": {"$gt": now()}}
    )


def token_spend(record: dict) -> bool:
    """Delete the record found by `token_find`. True for the one caller whose delete removed
    it; False if another request spent it (or a newer token replaced it) in between."""
    result = EmailToken._get_collection().delete_one({"_id": record["_id"], "token_hash": record["token_hash"]})
    return result.deleted_count == 1


def tokens_void(*, user_id, purpose: str | None = None) -> None:
    """Void the user's tokens (of one purpose, or all). One round trip."""
    query = {"user": user_id}
    if purpose is not None:
        query["purpose"] = purpose
    EmailToken._get_collection().delete_many(query)


def tokens_void_for_users(*, user_ids: list) -> None:
    """Void every token of these users (a trash move, a restore). One round trip."""
    EmailToken._get_collection().delete_many({"user": {"$in": list(user_ids)}})


# --- What the mail says about its token ----------------------------------------------------------
def duration_text(delta: timedelta) -> str:
    """`3 days`, `1 hour`, `90 minutes`: how long a link lives, for the mail's text."""
    minutes = int(delta.total_seconds() // 60)
    for unit, size in (("day", 1440), ("hour", 60), ("minute", 1)):
        if minutes % size == 0 and minutes >= size:
            count = minutes // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{minutes} minutes"


def link_for(template: str, token: str) -> str:
    """The front-end link of a mail: the configured URL with `{token}` replaced."""
    return template.replace("{token}", token)
