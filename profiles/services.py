"""Writes on what hangs off a user in `profiles`."""
from pymongo.errors import DuplicateKeyError

from accounts.documents import User, now
from profiles.documents import Details


def details_upsert(*, user: User, **fields) -> None:
    """Create the user's details or update the fields given; the others are kept.

    One atomic upsert keyed on the user (a unique index), so concurrent first writes for one
    user leave one document."""
    stamp = now()
    update = {"$set": {**fields, "updated_at": stamp}, "$setOnInsert": {"created_at": stamp}}
    if "preferences" not in fields:
        update["$setOnInsert"]["preferences"] = {}
    collection = Details._get_collection()
    try:
        collection.update_one({"user": user.id}, update, upsert=True)
    except DuplicateKeyError:
        # Two first upserts raced; the document exists now, so this one updates it.
        collection.update_one({"user": user.id}, update, upsert=True)
