"""Everything stored about a user, across every collection: the chain delete, what it would
remove, and the orphans an interrupted one leaves.

The collections are found, not listed: every document class that holds
`ReferenceField(User, reverse_delete_rule=CASCADE)` is walked (`user_dependents()`), and its
FileFields' GridFS files and chunks go with it, which MongoEngine's own `QuerySet.delete()` would
leave behind.
"""
from collections import Counter

from bson import ObjectId
from mongoengine import FileField
from mongoengine.connection import get_db

from accounts.documents import DeletionRecord, User, user_dependents


def _grid_files_delete(bucket: str, grid_ids: list) -> int:
    """Delete GridFS files of `bucket` by id: chunks first, then the file documents."""
    db = get_db()
    db[f"{bucket}.chunks"].delete_many({"files_id": {"$in": grid_ids}})
    return db[f"{bucket}.files"].delete_many({"_id": {"$in": grid_ids}}).deleted_count


def _files_delete(document_cls, query: dict) -> dict[str, int]:
    """Delete the GridFS files (and chunks) that the matched documents' FileFields point at,
    which a plain QuerySet.delete() would leave behind. Returns counts by files collection."""
    counts = {}
    for field in document_cls._fields.values():
        if not isinstance(field, FileField):
            continue
        grid_ids = [i for i in document_cls._get_collection().distinct(field.db_field, query) if i is not None]
        if grid_ids:
            counts[f"{field.collection_name}.files"] = _grid_files_delete(field.collection_name, grid_ids)
    return counts


def users_chain_delete(*, user_ids: list[ObjectId], actor_id: ObjectId | None, reason: str) -> dict[str, int]:
    """Delete users and every document of theirs in every collection.

    Afterwards the users, every document that references them with CASCADE (details, linked
    ids, token records, login counters, trash entries, audit events) and their stored files with
    their chunks are gone; their tokens fail because they name no user. What remains is one
    DeletionRecord per user: id, actor, time, reason, and how many documents went from each
    collection. Dependents go first and the users last, so a run interrupted half-way is
    completed by running it again; running it twice is safe (the second finds nothing).
    The users are marked `deleting` before anything goes, so that a write racing the delete
    (details, a linked id, an avatar, a login counter) removes itself and leaves no orphan
    (accounts/services/dependents.py). The number of queries depends on the number of
    collections, not of users or documents. Returns the totals per collection.

    Not in a transaction, on purpose: a transaction would make the delete all-or-nothing to
    readers, but not stop a racing writer from inserting a dependent outside it (MongoDB sees no
    conflict between a delete and a new document), and it needs a replica set (mongomock and
    standalone servers have none). The order, the mark and the writers' check give the
    guarantees on every server.
    """
    if not user_ids:
        return {}
    User._get_collection().update_many({"_id": {"$in": user_ids}}, {"$set": {"deleting": True}})
    per_user: dict[ObjectId, Counter] = {i: Counter() for i in user_ids}
    totals: Counter = Counter()
    for cls, field in user_dependents():
        db_field = cls._fields[field].db_field
        query = {db_field: {"$in": user_ids}}
        collection = cls._get_collection()
        name = collection.name
        if len(user_ids) > 1:  # one user's counts are the delete's own counts
            for row in collection.aggregate([{"$match": query}, {"$group": {"_id": f"${db_field}", "n": {"$sum": 1}}}]):
                if row["_id"] in per_user:
                    per_user[row["_id"]][name] += row["n"]
        totals.update(_files_delete(cls, query))
        deleted = cls.objects(**{f"{field}__in": user_ids}).delete()
        totals[name] += deleted
        if len(user_ids) == 1:
            per_user[user_ids[0]][name] += deleted
    live = User.objects(id__in=user_ids).distinct("id")
    totals["users"] += User._get_collection().delete_many({"_id": {"$in": user_ids}}).deleted_count
    records = []
    for user_id in live:
        counts = {k: v for k, v in per_user[user_id].items() if v}
        counts["users"] = 1
        records.append(DeletionRecord(user_id=user_id, deleted_by=actor_id, reason=reason, counts=counts).to_mongo())
    if records:
        DeletionRecord._get_collection().insert_many(records)
    return {k: v for k, v in totals.items() if v}


def users_chain_delete_counts(*, user_ids: list[ObjectId]) -> dict[str, int]:
    """What `users_chain_delete` would remove, per collection, without removing anything."""
    totals: Counter = Counter()
    for cls, field in user_dependents():
        query = {cls._fields[field].db_field: {"$in": user_ids}}
        collection = cls._get_collection()
        totals[collection.name] += collection.count_documents(query)
        for f in cls._fields.values():
            if isinstance(f, FileField):
                totals[f"{f.collection_name}.files"] += len([i for i in collection.distinct(f.db_field, query) if i is not None])
    totals["users"] += User._get_collection().count_documents({"_id": {"$in": user_ids}})
    return {k: v for k, v in totals.items() if v}


def user_delete(*, user: User, actor: User | None, reason: str) -> dict[str, int]:
    """The chain delete of one user (see `users_chain_delete`)."""
    return users_chain_delete(user_ids=[user.id], actor_id=getattr(actor, "id", None), reason=reason)


def orphans_find() -> dict[str, list]:
    """Per collection (and GridFS bucket), the ids of documents whose user no longer exists.
    One aggregation per collection ($lookup of the user), so it scales with the database."""
    users = User._get_collection_name()
    found: dict[str, list] = {}
    for cls, field in user_dependents():
        db_field = cls._fields[field].db_field
        collection = cls._get_collection()
        pipeline = [
            {"$match": {db_field: {"$ne": None}}},
            {"$lookup": {"from": users, "localField": db_field, "foreignField": "_id", "as": "_owner"}},
            {"$match": {"_owner.0": {"$exists": False}}},
            {"$project": {"_id": 1}},
        ]
        found[collection.name] = [row["_id"] for row in collection.aggregate(pipeline)]
        for f in cls._fields.values():
            if isinstance(f, FileField):
                referenced = set(collection.distinct(f.db_field))
                bucket = get_db()[f"{f.collection_name}.files"]
                found[bucket.name] = [row["_id"] for row in bucket.find({}, {"_id": 1}) if row["_id"] not in referenced]
    return found


def orphans_delete(found: dict[str, list]) -> dict[str, int]:
    """Remove what `orphans_find` found (documents first, with their files; then stray files)."""
    removed: dict[str, int] = {}
    for cls, _ in user_dependents():
        name = cls._get_collection_name()
        if found.get(name):
            query = {"_id": {"$in": found[name]}}
            for files_name, count in _files_delete(cls, query).items():
                removed[files_name] = removed.get(files_name, 0) + count
            removed[name] = cls._get_collection().delete_many(query).deleted_count
        for f in cls._fields.values():
            files_name = f"{getattr(f, 'collection_name', '')}.files"
            if isinstance(f, FileField) and found.get(files_name):
                removed[files_name] = removed.get(files_name, 0) + _grid_files_delete(f.collection_name, found[files_name])
    return removed
