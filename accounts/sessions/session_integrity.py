"""Sessions kept in two places agree (manage.py check_integrity): the ids on the user documents
and the Session documents (accounts/sessions/services.py). The orphans of a deleted user are
covered by the CASCADE registration (accounts/user_data/services.py); these are the rest."""
from datetime import timedelta

from accounts.sessions.documents import Session
from accounts.users.documents import User, now

DANGLING = "users.session_ids"
UNLISTED = "sessions (not listed)"
# A login writes its Session document a moment before listing its id; younger ones are left alone.
UNLISTED_GRACE = timedelta(minutes=1)


def sessions_integrity_find() -> dict[str, list]:
    """Two kinds of inconsistency, beside the orphans that the CASCADE registration covers:
    session ids on a user whose Session document is gone (ended by the TTL, or a crash between
    the two writes of ending one; harmless, pruned at the user's next login), and Session
    documents whose id is on no user's list (a crash between the two writes of a login or an
    end; their tokens are refused already). Two aggregations."""
    sessions_name = Session._get_collection_name()
    dangling = []
    rows = User._get_collection().aggregate(
        [
            {"$match": {"session_ids.0": {"$exists": True}}},
            {"$project": {"session_ids": 1}},
            {"$lookup": {"from": sessions_name, "localField": "session_ids", "foreignField": "_id", "as": "live"}},
        ]
    )
    for row in rows:
        live = {doc["_id"] for doc in row["live"]}
        dangling += [i for i in row["session_ids"] if i not in live]
    unlisted = []
    rows = Session._get_collection().aggregate(
        [
            {"$match": {"created_at": {"$lt": now() - UNLISTED_GRACE}}},
            {"$lookup": {"from": User._get_collection_name(), "localField": "user", "foreignField": "_id", "as": "owner"}},
            {"$project": {"_id": 1, "owner.session_ids": 1}},
        ]
    )
    for row in rows:
        owner = row["owner"][0] if row["owner"] else None
        if owner is not None and row["_id"] not in owner.get("session_ids", []):
            unlisted.append(row["_id"])
    return {DANGLING: dangling, UNLISTED: unlisted}


def sessions_integrity_fix(found: dict[str, list]) -> dict[str, int]:
    """Remove what `sessions_integrity_find` found: dangling ids from the users' lists, and
    unlisted Session documents."""
    removed = {}
    if found.get(DANGLING):
        removed[DANGLING] = User._get_collection().update_many(
            {"session_ids": {"$in": found[DANGLING]}}, {"$pull": {"session_ids": {"$in": found[DANGLING]}}}
        ).modified_count
    if found.get(UNLISTED):
        removed[UNLISTED] = Session._get_collection().delete_many({"_id": {"$in": found[UNLISTED]}}).deleted_count
    return removed
