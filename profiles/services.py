"""Writes on what hangs off a user in `profiles`: details and the avatar."""
import hashlib
from typing import IO

import gridfs
from bson import ObjectId
from django.conf import settings
from mongoengine.connection import get_db
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError
from rest_framework.exceptions import NotFound

from accounts.users.documents import User, now
from accounts.users.selectors import NO_USER
from accounts.users.guard import owner_guard
from accounts.users.user_extensions import user_copy_add
from common.exceptions import PayloadTooLarge
from profiles.avatar_image import avatar_image_clean
from profiles.documents import AVATAR_BUCKET, DETAILS_COPY, Avatar, Details


def details_upsert(*, user: User, **fields) -> None:
    """Create the user's details or update the fields given; the others are kept.

    One atomic upsert keyed on the user (a unique index), so concurrent first writes for one
    user leave one document; it raises the document's `version`. Then the document is read back,
    with the version of whatever write came last so far, and put on the user as its copy
    (`User.details_copy`, what the join reads), only over a copy of a lower version: of racing
    writers, the one that read last writes the latest state, so the copy ends as the document
    does. Three round trips. (Not one findAndModify returning the new document: SecantusDB's
    returns a stale one under concurrency, README "The embedded database".) 404 when the user is
    being chain-deleted meanwhile; the document is then removed again, so no orphan is left
    (accounts/user_data/dependents.py): the copy's write matches only a user not being deleted,
    so it is the owner check as well. A crash between the writes leaves a copy older than its
    document, which `check_integrity` finds and `--fix` mends."""
    stamp = now()
    update = {"$set": {**fields, "updated_at": stamp}, "$setOnInsert": {"created_at": stamp}, "$inc": {"version": 1}}
    if "preferences" not in fields:
        update["$setOnInsert"]["preferences"] = {}
    collection = Details._get_collection()
    try:
        collection.update_one({"user": user.id}, update, upsert=True)
    except DuplicateKeyError:
        # Two first upserts raced; the document exists now, so this one updates it.
        collection.update_one({"user": user.id}, update, upsert=True)
    # The owner guard (accounts/users/guard.py): the copy's conditional update of the user proves
    # the owner remains; without that match one read decides, and a user gone takes the details too.
    with owner_guard(user.id) as guard:
        guard.written(Details, {"user": user.id})
        doc = collection.find_one({"user": user.id})
        if details_copy_write(user_id=user.id, doc=doc):
            guard.proven(True)


def details_copy_write(*, user_id: ObjectId, doc: dict | None, repair: bool = False) -> bool:
    """Put `doc` (the user's Details document as stored, or None) on the user as its copy, unless
    the copy there is of the same or a later version (with `repair`, check_integrity's: of a later
    version only, so a copy that differs at the same version is replaced, a newer one never).
    True when written; False when the copy was newer or the user is gone or being deleted."""
    version = doc.get("version", 0) if doc else 0
    query: dict = {
        "_id": user_id,
        "deleting": {"$ne": True},
        "$or": [{f"{DETAILS_COPY}.v": {"$lte" if repair else "$lt": version}}, {DETAILS_COPY: {"$exists": False}}],
    }
    written = User._get_collection().update_one(query, {"$set": {DETAILS_COPY: {"v": version, "doc": doc}}})
    return written.matched_count == 1


def details_copy_differing() -> list[ObjectId]:
    """Users whose `details_copy` is missing or differs from their Details document (check_integrity).
    One aggregation over the users, streamed."""
    pipeline = [
        {"$project": {DETAILS_COPY: 1}},
        {"$lookup": {"from": Details._get_collection_name(), "localField": "_id", "foreignField": "user", "as": "details"}},
    ]
    differing = []
    for row in User._get_collection().aggregate(pipeline):
        copy, doc = row.get(DETAILS_COPY), (row["details"] or [None])[0]
        if copy is None or copy.get("doc") != doc or copy.get("v") != (doc.get("version", 0) if doc else 0):
            differing.append(row["_id"])
    return differing


def details_copy_fix(user_ids: list[ObjectId]) -> int:
    """Rewrite these users' `details_copy` from their Details documents (never over a newer copy).
    Returns the users written."""
    collection = Details._get_collection()
    return sum(details_copy_write(user_id=user_id, doc=collection.find_one({"user": user_id}), repair=True) for user_id in user_ids)


user_copy_add(DETAILS_COPY, find=details_copy_differing, fix=details_copy_fix)


# --- Avatars ----------------------------------------------------------------------------------
# Room for the multipart boundary and part headers around the file in the request body.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def _size_text(n: int) -> str:
    for unit, factor in (("MB", 2**20), ("KB", 2**10)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n} bytes"


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"The image is larger than {_size_text(settings.AVATAR_MAX_BYTES)}.")


def avatar_request_size_check(*, content_length: int | None) -> None:
    """413 for a request body that cannot hold an acceptable image, before any of it is read,
    so an oversized upload is not first spooled to disk. `None` (unknown) passes: the upload
    itself is bounded again when read."""
    if content_length is not None and content_length > settings.AVATAR_MAX_BYTES + MULTIPART_OVERHEAD_BYTES:
        raise _too_large()


def _upload_read(upload: IO[bytes]) -> bytes:
    """The upload's bytes, reading at most one byte more than the limit (413 past it)."""
    limit = settings.AVATAR_MAX_BYTES
    if (getattr(upload, "size", None) or 0) > limit:
        raise _too_large()
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise _too_large()
    return content

def _bucket() -> gridfs.GridFS:
    return gridfs.GridFS(get_db(), collection=AVATAR_BUCKET)


def _has_avatar_sync(*, user_id: ObjectId) -> bool:
    """Set `User.has_avatar` from whether an Avatar exists (the Avatar is the truth; the flag
    only drives `avatar_url`). False when the user no longer exists."""
    exists = Avatar._get_collection().count_documents({"user": user_id}, limit=1) > 0
    # A user whose chain delete has begun counts as gone (accounts/user_data/dependents.py).
    update = User._get_collection().update_one({"_id": user_id, "deleting": {"$ne": True}}, {"$set": {"has_avatar": exists}})
    return update.matched_count > 0


def avatar_replace(*, user: User, upload: IO[bytes]) -> Avatar:
    """Store `upload` as the user's avatar, replacing any previous one.

    Guarantees: the upload is at most AVATAR_MAX_BYTES (413) and an acceptable image (400, see
    `avatar_image_clean`); what is stored is the re-encoded pixels, never the uploaded bytes or
    file name. Afterwards the user has exactly one Avatar and one GridFS file with its chunks;
    the previous file is deleted. The record is switched to the new file in one atomic upsert
    (the unique index on `user` decides between concurrent uploads), so a reader sees the old
    avatar or the new one, never none. A crash between the steps leaves at worst an unreferenced
    file, which `check_integrity --fix` removes. 404 if the user turns out to be gone, or being
    chain-deleted, once the record is written, and what was written is removed again: a racing
    chain delete leaves no orphan (the protocol of accounts/user_data/dependents.py).
    """
    clean = avatar_image_clean(content=_upload_read(upload))
    bucket = _bucket()
    file_id = bucket.put(clean.content, contentType=clean.content_type)
    fields = {
        "file": file_id,
        "content_type": clean.content_type,
        "etag": hashlib.sha256(clean.content).hexdigest(),
        "size": len(clean.content),
        "width": clean.width,
        "height": clean.height,
        "updated_at": now(),
    }
    new_id = ObjectId()
    update = {"$set": fields, "$setOnInsert": {"_id": new_id}}
    collection = Avatar._get_collection()

    def swap() -> dict | None:
        return collection.find_one_and_update({"user": user.id}, update, upsert=True, return_document=ReturnDocument.BEFORE)

    try:
        try:
            previous = swap()
        except DuplicateKeyError:
            # Two first uploads raced; the record exists now, so this one replaces it.
            previous = swap()
    except BaseException:
        bucket.delete(file_id)  # nothing refers to it
        raise
    if previous is not None and previous.get("file") not in (None, file_id):
        bucket.delete(previous["file"])
    if not _has_avatar_sync(user_id=user.id):
        # A chain delete ran concurrently and may have missed what was just written.
        collection.delete_one({"user": user.id, "file": file_id})
        bucket.delete(file_id)
        raise NotFound(NO_USER)
    user.has_avatar = True
    return Avatar._from_son({"_id": previous["_id"] if previous else new_id, "user": user.id, **fields})


def avatar_remove(*, user: User) -> None:
    """Remove the user's avatar: afterwards no Avatar, GridFS file or chunk of theirs is left and
    `has_avatar` is false. 404 when there is none, so a repeated call is a harmless 404.
    The record goes before the file: a crash in between leaves an unreferenced file (which
    `check_integrity --fix` removes), never a record pointing at missing bytes."""
    previous = Avatar._get_collection().find_one_and_delete({"user": user.id})
    if previous is None:
        raise NotFound("This user has no avatar.")
    if previous.get("file") is not None:
        _bucket().delete(previous["file"])
    _has_avatar_sync(user_id=user.id)
    user.has_avatar = False
