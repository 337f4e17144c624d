"""Reads in `profiles`: the user-with-details join and the avatar."""
import gridfs
from bson import ObjectId
from mongoengine.connection import get_db
from rest_framework.exceptions import NotFound

from accounts.users.documents import LinkedId, User
from accounts.users.selectors import NO_USER, user_visible
from profiles.documents import AVATAR_BUCKET, Avatar, Details

NO_AVATAR = "This user has no avatar."

USER_FIELDS = {"username": 1, "email": 1, "role": 1, "email_verified": 1, "created_at": 1, "in_trash": 1}


def join_lookups() -> list[dict]:
    """The `$lookup` stages of the join: the user's linked ids and details."""
    return [
        {"$lookup": {"from": LinkedId._get_collection_name(), "localField": "_id", "foreignField": "user", "as": "links"}},
        {"$lookup": {"from": Details._get_collection_name(), "localField": "_id", "foreignField": "user", "as": "details"}},
    ]


def user_with_details(*, user_id: str, caller: User) -> dict:
    """The user joined with their linked ids and details: one aggregation, one round trip, or
    none when the caller reads themselves and authentication has already run these lookups
    with the caller's document (`ProfileViewSet.caller_lookups`).

    `linked_id` is the most recently linked id (None if none), `linked_ids` all of them, oldest
    first. A trashed account is a 404 to everybody but admins."""
    if not ObjectId.is_valid(user_id):
        raise NotFound(NO_USER)
    prefetched = getattr(caller, "prefetched", None)
    if prefetched is not None and caller.id == ObjectId(user_id):
        son = prefetched["_son"]  # authentication refused the caller if trashed or inactive
        row = {key: son[key] for key in ("_id", *USER_FIELDS) if key in son}
        row["links"], row["details"] = prefetched["links"], prefetched["details"]
    else:
        pipeline = [{"$match": {"_id": ObjectId(user_id)}}, {"$project": USER_FIELDS}, *join_lookups()]
        rows = list(User._get_collection().aggregate(pipeline))
        if not rows or not user_visible(in_trash=bool(rows[0].get("in_trash")), caller=caller):
            raise NotFound(NO_USER)
        row = rows[0]
    row.setdefault("email_verified", True)  # stored before verification existed: verified
    links = sorted(row.pop("links"), key=lambda link: (link["created_at"], link["_id"]))
    row["linked_ids"] = [link["linked_id"] for link in links]
    row["linked_id"] = row["linked_ids"][-1] if links else None
    details = row.pop("details")
    return {"user": row, "details": details[0] if details else None}


def avatar_get(*, user: User) -> Avatar:
    """The user's avatar record (type, ETag, size; not the bytes), or 404. One query."""
    avatar = Avatar.objects(user=user.id).first()
    if avatar is None:
        raise NotFound(NO_AVATAR)
    return avatar


def avatar_content(*, user: User, avatar: Avatar) -> tuple[Avatar, bytes]:
    """The stored bytes, with the record they belong to. Two queries (file, chunks).

    A concurrent replace may delete the file between reading the record and its bytes; then the
    record is read once more and the new file returned (a concurrent delete is a 404)."""
    bucket = gridfs.GridFS(get_db(), collection=AVATAR_BUCKET)
    for attempt in range(2):
        try:
            return avatar, bucket.get(avatar.file.grid_id).read()
        except (gridfs.errors.NoFile, gridfs.errors.CorruptGridFile):
            if attempt:
                break
            avatar = avatar_get(user=user)
    raise NotFound(NO_AVATAR)
