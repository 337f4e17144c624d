"""External ids linked to a user; each id is held by one user at most (a unique index).

The LinkedId documents are the truth; the user document carries a copy of them (`links_copy`,
{_id, linked_id, created_at} each) so that the join costs one read. The copy is written after the
document, by `_id`, with `$addToSet` and `$pull`, which commute, and a link's addition checks
after writing the copy that its document still exists (a removal may have run in between), so
however adds and removes of one user interleave, the copy ends as the documents are. A crash
between the two writes leaves a difference that `check_integrity` finds and `--fix` mends.
Users without the copy (stored before it existed) are left without it until then.
"""
from bson import ObjectId
from mongoengine import NotUniqueError
from rest_framework.exceptions import NotFound

from accounts.users.documents import LinkedId, User
from accounts.users.guard import owner_guard
from accounts.users.user_extensions import user_copy_add
from common.exceptions import Conflict

LINKS_COPY = "links_copy"


def link_copy_entry(link: LinkedId | dict) -> dict:
    """A LinkedId as its copy on the user holds it."""
    if isinstance(link, dict):
        return {"_id": link["_id"], "linked_id": link["linked_id"], "created_at": link["created_at"]}
    return {"_id": link.id, "linked_id": link.linked_id, "created_at": link.created_at}


def linked_id_add(*, user: User, linked_id: str) -> LinkedId:
    """Link an external id. Linking it again to the same user is a no-op; an id held by
    another user is a 409 (decided by the unique index, so races have one winner). 404 when the
    user is being chain-deleted meanwhile; the link is then removed again, no orphan is left.
    Three round trips: the insert, the copy (whose match is the owner check), the re-check."""
    # The owner guard (accounts/users/guard.py): the copy's conditional update of the user proves
    # the owner remains; without that match one read decides, and a user gone takes the link too.
    with owner_guard(user.id) as guard:
        try:
            link = LinkedId(linked_id=linked_id, user=user.id).save(force_insert=True)
        except NotUniqueError:
            existing = LinkedId.objects(linked_id=linked_id).first()
            if existing is not None and existing.user.id == user.id:
                return existing
            raise Conflict("This linked id belongs to another user.") from None
        entry = link_copy_entry(link)  # stored as the document is: the same BSON, to the millisecond
        users = User._get_collection()
        copied = users.update_one({"_id": user.id, "deleting": {"$ne": True}, LINKS_COPY: {"$exists": True}}, {"$addToSet": {LINKS_COPY: entry}})
        if copied.matched_count:
            guard.proven(True)
            if LinkedId._get_collection().find_one({"_id": link.id}, {"_id": 1}) is None:
                # Removed between the insert and the copy: take it off the copy too.
                users.update_one({"_id": user.id}, {"$pull": {LINKS_COPY: {"_id": link.id}}})
    return link


def linked_id_remove(*, user: User, linked_id: str) -> None:
    """Unlink an external id from this user; 404 if the user does not hold it. Two round trips:
    the document, then its copy on the user."""
    removed = LinkedId._get_collection().find_one_and_delete({"user": user.id, "linked_id": linked_id}, projection={"_id": 1})
    if removed is None:
        raise NotFound("This user has no such linked id.")
    User._get_collection().update_one({"_id": user.id}, {"$pull": {LINKS_COPY: {"_id": removed["_id"]}}})


def links_copy_of(user_id: ObjectId) -> list[dict]:
    """What the user's copy should hold: its LinkedId documents, oldest first."""
    rows = LinkedId._get_collection().find({"user": user_id}, {"linked_id": 1, "created_at": 1}).sort([("created_at", 1), ("_id", 1)])
    return [link_copy_entry(row) for row in rows]


def links_copy_differing() -> list[ObjectId]:
    """Users whose `links_copy` is missing or differs from their LinkedId documents (check_integrity).
    One aggregation over the users, streamed."""
    pipeline = [
        {"$project": {LINKS_COPY: 1}},
        {"$lookup": {"from": LinkedId._get_collection_name(), "localField": "_id", "foreignField": "user", "as": "links"}},
    ]
    differing = []
    for row in User._get_collection().aggregate(pipeline):
        copy = row.get(LINKS_COPY)
        truth = sorted((link_copy_entry(link) for link in row["links"]), key=lambda e: e["_id"])
        if copy is None or sorted(copy, key=lambda e: e["_id"]) != truth:
            differing.append(row["_id"])
    return differing


def links_copy_fix(user_ids: list[ObjectId]) -> int:
    """Rewrite these users' `links_copy` from their LinkedId documents; read back and written
    again (up to three times) if a link was added or removed meanwhile. Returns the users written."""
    users = User._get_collection()
    written = 0
    for user_id in user_ids:
        for _ in range(3):
            truth = links_copy_of(user_id)
            if users.update_one({"_id": user_id, "deleting": {"$ne": True}}, {"$set": {LINKS_COPY: truth}}).matched_count == 0:
                break  # gone, or being chain-deleted
            written += 1
            if sorted(links_copy_of(user_id), key=lambda e: e["_id"]) == sorted(truth, key=lambda e: e["_id"]):
                break
    return written


user_copy_add(LINKS_COPY, find=links_copy_differing, fix=links_copy_fix)
