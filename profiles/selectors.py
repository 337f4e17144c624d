"""Reads in `profiles`: the user-with-details join and the avatar."""
import gridfs
from bson import ObjectId
from mongoengine.connection import get_db
from rest_framework.exceptions import NotFound

from accounts.sessions.prefetch import caller_document
from accounts.users.documents import LinkedId, User
from accounts.users.linked_ids import LINKS_COPY
from accounts.users.selectors import NO_USER, user_visible
from profiles.documents import AVATAR_BUCKET, DETAILS_COPY, Avatar, Details

NO_AVATAR = "This user has no avatar."

USER_FIELDS = {"username": 1, "email": 1, "role": 1, "email_verified": 1, "created_at": 1, "in_trash": 1}


def join_lookups() -> list[dict]:
    """The `$lookup` stages of the join: the user's linked ids and details (users without the
    copies, stored before they existed)."""
    return [
        {"$lookup": {"from": LinkedId._get_collection_name(), "localField": "_id", "foreignField": "user", "as": "links"}},
        {"$lookup": {"from": Details._get_collection_name(), "localField": "_id", "foreignField": "user", "as": "details"}},
    ]


def _row_from_copies(son: dict) -> dict | None:
    """The join's row from the user's document alone: its fields and the copies it carries of its
    LinkedId and Details documents (kept exact by their writers; see accounts.users.linked_ids
    and profiles.services.details_upsert). None when the document has no copies yet."""
    links, details = son.get(LINKS_COPY), son.get(DETAILS_COPY)
    if links is None or details is None:
        return None
    row = {key: son[key] for key in ("_id", *USER_FIELDS) if key in son}
    row["links"] = links
    row["details"] = [details["doc"]] if details.get("doc") is not None else []
    return row


def user_with_details(*, user_id: str, caller: User) -> dict:
    """The user joined with their linked ids and details. No round trip when the caller reads
    themselves (authentication has just read their document, copies included:
    accounts/sessions/prefetch.py); one `find_one` by `_id` for another user. A user stored before
    the copies existed is read with one aggregation ($lookup of the LinkedId and Details
    documents) instead, with the same result.

    `linked_id` is the most recently linked id (None if none), `linked_ids` all of them, oldest
    first. A trashed account is a 404 to everybody but admins."""
    if not ObjectId.is_valid(user_id):
        raise NotFound(NO_USER)
    son = caller_document(caller, user_id)
    if son is None:
        son = User._get_collection().find_one({"_id": ObjectId(user_id)}, {**USER_FIELDS, "deleting": 1, LINKS_COPY: 1, DETAILS_COPY: 1})
        # A user being chain-deleted is gone (issue 20).
        if son is None or son.pop("deleting", False) or not user_visible(in_trash=bool(son.get("in_trash")), caller=caller):
            raise NotFound(NO_USER)
    # (the caller's own document: authentication refused the caller if trashed or inactive)
    row = _row_from_copies(son)
    if row is None:
        row = user_with_details_read(user_id=ObjectId(user_id))
    return join_render(row)


def user_with_details_read(*, user_id: ObjectId) -> dict:
    """The join's row from the LinkedId and Details documents themselves: one aggregation. For
    users without copies, and to check the copies (tests, check_integrity)."""
    pipeline = [{"$match": {"_id": user_id}}, {"$project": USER_FIELDS}, *join_lookups()]
    rows = list(User._get_collection().aggregate(pipeline))
    if not rows:
        raise NotFound(NO_USER)
    return rows[0]


def join_render(row: dict) -> dict:
    """The join's row as the nested serializer takes it."""
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
