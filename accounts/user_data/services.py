"""Everything stored about a user, across every collection: one walk and its four uses, the
chain delete (purge), its counts, the export and the orphan check.

How a collection is covered: declare its owner as `ReferenceField(User, reverse_delete_rule=CASCADE)`
on a top-level Document (any field name; index it, every use below queries by it) in a module
that is imported when Django starts (an app's `documents.py`, imported from its `ready()`).
Nothing else. From then on:
- `users_chain_delete` deletes its documents, and for each of its FileFields the GridFS files
  and chunks, which MongoEngine's own `QuerySet.delete()` would leave behind;
- `users_chain_delete_counts` counts them (`manage.py delete_users --dry-run`);
- `user_export` lists them (GET /users/{id}/export), a FileField as its file's metadata;
- `orphans_find` / `orphans_delete` (`manage.py check_integrity`) find the documents whose user
  is gone and the GridFS files no document points at.
A field that must never leave the server (a hash, a secret) is named, by its stored name, in the
class attribute `export_exclude`, as `User` does for `password`. Data that must outlive the user
(`DeletionRecord`) holds a plain ObjectIdField instead of a reference.
"""
from collections import Counter
from datetime import datetime

from bson import ObjectId
from mongoengine import CASCADE, Document, FileField
from mongoengine.connection import get_db
from pymongo.errors import BulkWriteError

from common.failpoints import failpoint
from accounts.events.webhooks import user_deleted_events
from accounts.users.documents import ROLE_ADMIN, AuditEvent, User, now
from accounts.user_data.documents import DeletionRecord

DUPLICATE_KEY = 11000
# The chain delete's intent, written with its `deleting` mark (accounts/users/documents.py).
INTENT = ("deleting_by", "deleting_reason", "deleting_since")
FILE_METADATA = ("_id", "length", "contentType", "uploadDate", "md5")


# --- The walk ---------------------------------------------------------------------------------
def user_dependents() -> list[tuple[type[Document], str]]:
    """(document class, field name) for every document declared as belonging to a user, that is
    holding `ReferenceField(User, reverse_delete_rule=CASCADE)`, whatever app declares it."""
    rules = User._meta.get("delete_rules") or {}
    return [(cls, field) for (cls, field), rule in rules.items() if rule == CASCADE and not cls._meta.get("abstract")]


def _file_fields(cls: type[Document]) -> list[FileField]:
    return [f for f in cls._fields.values() if isinstance(f, FileField)]


def _owned_by(cls: type[Document], field: str, user_ids: list[ObjectId]) -> dict:
    return {cls._fields[field].db_field: {"$in": user_ids}}


def _grid_ids(cls: type[Document], field: FileField, query: dict) -> list:
    return [i for i in cls._get_collection().distinct(field.db_field, query) if i is not None]


def _grid_files_delete(bucket: str, grid_ids: list) -> int:
    """Delete GridFS files of `bucket` by id: chunks first, then the file documents."""
    db = get_db()
    db[f"{bucket}.chunks"].delete_many({"files_id": {"$in": grid_ids}})
    return db[f"{bucket}.files"].delete_many({"_id": {"$in": grid_ids}}).deleted_count


def _files_delete(cls: type[Document], query: dict) -> Counter:
    """Delete the GridFS files (and chunks) that the matched documents' FileFields point at.
    Returns counts by files collection."""
    counts: Counter = Counter()
    for field in _file_fields(cls):
        grid_ids = _grid_ids(cls, field, query)
        if grid_ids:
            counts[f"{field.collection_name}.files"] += _grid_files_delete(field.collection_name, grid_ids)
    return counts


# --- Purge: the chain delete ----------------------------------------------------------------
def _acts_on_others_anonymise(actor_ids: list[ObjectId]) -> None:
    """Audit events about other people outlive a deleted person who acted in them (an admin's
    role changes, trash moves and restores): they keep the bare actor id, for accountability,
    and lose the actor's client address and anything else personal. Events about the deleted
    person themselves go with them (CASCADE). Only admins act on others, so only their deletes
    pay this one extra write; it runs before the users go, so a retry after a crash redoes it."""
    if actor_ids:
        AuditEvent._get_collection().update_many({"actor_id": {"$in": actor_ids}}, {"$unset": {"ip": "", "user_agent": ""}})


def _insert_once(collection, documents: list[dict]) -> None:
    """Insert documents whose `_id` names what they record; those already there (written by a run
    cut short, or by a run at the same time) are kept as they are."""
    if not documents:
        return
    try:
        collection.insert_many(documents, ordered=False)
    except BulkWriteError as exc:
        if any(error.get("code") != DUPLICATE_KEY for error in exc.details.get("writeErrors", [])):
            raise


def users_chain_delete(*, user_ids: list[ObjectId], actor_id: ObjectId | None, reason: str) -> dict[str, int]:
    """Delete users and every document of theirs in every collection.

    Afterwards the users, every document that references them with CASCADE and the GridFS
    files of those documents, with their chunks, are gone; their tokens fail because they name
    no user. What remains is one DeletionRecord per user: id, actor, time, reason, and how many
    documents went from each collection. Dependents go first and the users last, so a run
    interrupted half-way is completed by running it again; running it twice is safe (the second
    finds nothing).

    Resumable (issue 20): the first write is the intent, the `deleting` mark with who, why and
    since when. From then on the user cannot log in or refresh (401) and no read or listing shows
    them (404). A delete cut short anywhere (a failpoint names each step) is finished by the same
    delete again (DELETE /users/delete_user/{id} or DELETE /trash/{id} by an admin, `manage.py
    delete_users`) or by `manage.py check_integrity --repair` (`users_deleting_finish`), and the
    record then names the actor and reason of the intent. The users are marked `deleting` before anything goes, so that a write racing
    the delete (a linked id, a login counter, another app's document) removes itself and leaves no
    orphan (accounts/user_data/dependents.py). The number of queries depends on the number of
    collections, not of users or documents. Returns the totals per collection.

    Not in a transaction, on purpose: a transaction would make the delete all-or-nothing to
    readers, but not stop a racing writer from inserting a dependent outside it (MongoDB sees no
    conflict between a delete and a new document), and it needs a replica set (mongomock and
    standalone servers have none). The order, the mark and the writers' check give the
    guarantees on every server.
    """
    if not user_ids:
        return {}
    # The intent first: the mark (from here the users cannot log in, refresh or be read) with who,
    # why and since when, so that a delete cut short anywhere below is found and finished.
    intent = {"deleting": True, "deleting_by": actor_id, "deleting_reason": reason, "deleting_since": now()}
    User._get_collection().update_many({"_id": {"$in": user_ids}, "deleting": {"$ne": True}}, {"$set": intent})
    failpoint("chain_delete.marked")
    # Before anything goes: user.deleted for every user, with their linked ids (it must outlive
    # them and holds no reference); the fan-out waits until each user is really gone.
    user_deleted_events(user_ids=user_ids)
    failpoint("chain_delete.events")
    per_user: dict[ObjectId, Counter] = {i: Counter() for i in user_ids}
    totals: Counter = Counter()
    for cls, field in user_dependents():
        query = _owned_by(cls, field, user_ids)
        collection = cls._get_collection()
        name = collection.name
        if len(user_ids) > 1:  # one user's counts are the delete's own counts
            owner = f"${cls._fields[field].db_field}"
            for row in collection.aggregate([{"$match": query}, {"$group": {"_id": owner, "n": {"$sum": 1}}}]):
                if row["_id"] in per_user:
                    per_user[row["_id"]][name] += row["n"]
        totals.update(_files_delete(cls, query))
        deleted = cls.objects(**{f"{field}__in": user_ids}).delete()
        totals[name] += deleted
        if len(user_ids) == 1:
            per_user[user_ids[0]][name] += deleted
        failpoint(f"chain_delete.dependents.{name}")
    # The users not gone yet, with their intent: a run that finishes a delete cut short records
    # who asked for it and why, not who happened to finish it.
    live_rows = list(User._get_collection().find({"_id": {"$in": user_ids}}, {"_id": 1, "role": 1, **dict.fromkeys(INTENT, 1)}))
    _acts_on_others_anonymise([row["_id"] for row in live_rows if row.get("role") == ROLE_ADMIN])
    failpoint("chain_delete.anonymised")
    # The deletion records before the users go, so no user is ever gone without its record. A
    # record's id is its user's (ids are never reused): a record written by a run cut short after
    # this point is kept, with its counts, and a second run, or two at once, add none.
    records = []
    for row in live_rows:
        counts = {k: v for k, v in per_user[row["_id"]].items() if v}
        counts["users"] = 1
        intended = row.get("deleting_since") is not None  # marked by this code (older marks hold no intent)
        by, why = (row.get("deleting_by"), row.get("deleting_reason") or "") if intended else (actor_id, reason)
        records.append({**DeletionRecord(user_id=row["_id"], deleted_by=by, reason=why, counts=counts).to_mongo(), "_id": row["_id"]})
    _insert_once(DeletionRecord._get_collection(), records)
    failpoint("chain_delete.recorded")
    totals["users"] += User._get_collection().delete_many({"_id": {"$in": user_ids}}).deleted_count
    return {k: v for k, v in totals.items() if v}


def users_deleting_find(limit: int = 0, *, begun_before: datetime | None = None) -> list[dict]:
    """Users left marked `deleting` (a chain delete cut short, or one running right now), oldest
    in id order: `_id` and the intent. One query. `begun_before`: only the deletes begun before
    then (marks of older versions, which hold no time, count as begun long ago)."""
    query: dict = {"deleting": True}
    if begun_before:
        query["$or"] = [{"deleting_since": {"$lt": begun_before}}, {"deleting_since": None}]
    rows = User._get_collection().find(query, {"_id": 1, **dict.fromkeys(INTENT, 1)}).sort("_id", 1)
    return list(rows.limit(limit) if limit else rows)


def users_deleting_finish(user_ids: list[ObjectId], *, batch: int = 100) -> dict[str, int]:
    """Finish the chain deletes of these users (`check_integrity --repair`), in batches, each
    record with the actor and reason of its intent. Safe while the first run still goes on: both
    delete the same documents, and the record and the user.deleted event are written once.
    No admin guard: a user being deleted no longer counts as an active admin."""
    totals: Counter = Counter()
    for start in range(0, len(user_ids), batch):
        totals.update(users_chain_delete(user_ids=user_ids[start:start + batch], actor_id=None, reason=""))
    return dict(totals)


def users_chain_delete_counts(*, user_ids: list[ObjectId]) -> dict[str, int]:
    """What `users_chain_delete` would remove, per collection, without removing anything."""
    totals: Counter = Counter()
    for cls, field in user_dependents():
        query = _owned_by(cls, field, user_ids)
        totals[cls._get_collection_name()] += cls._get_collection().count_documents(query)
        for f in _file_fields(cls):
            totals[f"{f.collection_name}.files"] += len(_grid_ids(cls, f, query))
    totals["users"] += User._get_collection().count_documents({"_id": {"$in": user_ids}})
    return {k: v for k, v in totals.items() if v}


def user_delete(*, user: User, actor: User | None, reason: str) -> dict[str, int]:
    """The chain delete of one user (see `users_chain_delete`); 409 if it is the last active admin."""
    from accounts.admin.admin_guard import active_admins_kept

    with active_admins_kept(leaving=[user]):
        return users_chain_delete(user_ids=[user.id], actor_id=getattr(actor, "id", None), reason=reason)


# --- Export -----------------------------------------------------------------------------------
def _plain(value):
    """A BSON value as JSON-friendly Python."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _exportable(cls: type[Document], doc: dict) -> dict:
    for name in getattr(cls, "export_exclude", ()):
        doc.pop(name, None)
    for f in _file_fields(cls):
        if doc.get(f.db_field) is not None:
            meta = get_db()[f"{f.collection_name}.files"].find_one({"_id": doc[f.db_field]})
            doc[f.db_field] = {k: meta.get(k) for k in FILE_METADATA} if meta else None
    return doc


def user_export(*, user: User) -> dict:
    """Everything stored about a user: the account and, per collection, every document that
    belongs to them (the list the chain delete walks), stored files as their metadata. Fields
    named in a class's `export_exclude` (the password hash) are left out. One query per
    collection, plus one per stored file."""
    account = _exportable(User, user.to_mongo().to_dict())
    collections: dict[str, list] = {}
    for cls, field in user_dependents():
        docs = cls._get_collection().find({cls._fields[field].db_field: user.id})
        collections.setdefault(cls._get_collection_name(), []).extend(_exportable(cls, doc) for doc in docs)
    return {"user": _plain(account), "collections": _plain(collections)}


# --- Orphans ----------------------------------------------------------------------------------
def orphans_find(*, begun_before: datetime | None = None) -> dict[str, list]:
    """Per collection (and GridFS bucket), the ids of documents whose user no longer exists.
    One aggregation per collection ($lookup of the user), so it scales with the database.

    `begun_before`: only documents made before then (by their ObjectId's time). A younger one may
    belong to a write still on its way: the jobs a sign-up or an import writes before their user,
    a stored file before the record that names it, a write racing a chain delete before its
    owner guard removes it (`check_integrity`'s grace)."""
    users = User._get_collection_name()
    older = {"_id": {"$lt": ObjectId.from_datetime(begun_before)}} if begun_before else {}
    found: dict[str, list] = {}
    for cls, field in user_dependents():
        db_field = cls._fields[field].db_field
        collection = cls._get_collection()
        pipeline = [
            {"$match": {db_field: {"$ne": None}, **older}},
            {"$lookup": {"from": users, "localField": db_field, "foreignField": "_id", "as": "_owner"}},
            {"$match": {"_owner.0": {"$exists": False}}},
            {"$project": {"_id": 1}},
        ]
        found[collection.name] = [row["_id"] for row in collection.aggregate(pipeline)]
        for f in _file_fields(cls):
            referenced = set(collection.distinct(f.db_field))
            bucket = get_db()[f"{f.collection_name}.files"]
            found[bucket.name] = [row["_id"] for row in bucket.find(older, {"_id": 1}) if row["_id"] not in referenced]
    return found


def orphans_delete(found: dict[str, list]) -> dict[str, int]:
    """Remove what `orphans_find` found (documents first, with their files; then stray files)."""
    removed: Counter = Counter()
    for cls, _ in user_dependents():
        name = cls._get_collection_name()
        if found.get(name):
            query = {"_id": {"$in": found[name]}}
            removed.update(_files_delete(cls, query))
            removed[name] = cls._get_collection().delete_many(query).deleted_count
        for f in _file_fields(cls):
            files_name = f"{f.collection_name}.files"
            if found.get(files_name):
                removed[files_name] += _grid_files_delete(f.collection_name, found[files_name])
    return dict(removed)
