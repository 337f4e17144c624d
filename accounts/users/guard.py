"""The one guard of every write that hangs data off a user, against a concurrent chain delete.

The race: a request loaded the user, then writes a document that belongs to them (a session, a
TOTP device, an email token, an audit event, a linked id, details, a passkey, a provider
identity, an outbox entry...) while another request chain-deletes that user. Without care the
write lands after the delete removed the user's documents, and stays for ever (an orphan; for a
login, a session answering 200 for a user who no longer exists).

The protocol (no transaction needed, so it holds on any MongoDB, standalone included):
- the chain delete first marks its users `deleting` (and records its intent), then deletes the
  dependents, then the users (accounts/user_data/services.py);
- a writer writes first, then proves the owner remains: one indexed read by `_id`, or a
  conditional update of the user (`deleting` not set) that it makes anyway; when the owner is
  gone or going, it removes what it wrote and answers 404.
Either the proof saw the user unmarked, so the write landed before the mark, so before the
dependents were deleted, and the delete took it; or the proof failed and the writer removed its
own write. Once both finish, nothing is left over.

By construction, not by remembering: which documents belong to a user is read from the CASCADE
declarations on `User` (the same list the chain delete, the export and `check_integrity` walk),
and every `Document.save()` of such a document goes through this guard by MongoEngine's
`post_save` signal, connected once for all documents, whatever app declares them. A write that
does not go through `save()` (a raw upsert, `insert_many`) names itself inside `owner_guard`.
Inside an `owner_guard` block the saves are checked together at its end, once, or not at all
when the block proves the owner with a conditional update of its own (`guard.proven(...)`).
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bson import DBRef, ObjectId
from mongoengine import CASCADE, Document, signals
from rest_framework.exceptions import NotFound

from accounts.users.documents import User
from common import batch

NO_USER = "No user with this id."
_local = threading.local()


def owner_remains(*, user_id: ObjectId) -> bool:
    """True while the user exists and no chain delete of theirs has begun. One read by `_id`."""
    return User._get_collection().find_one({"_id": user_id, "deleting": {"$ne": True}}, {"_id": 1}) is not None


def alive_filter(user_id: ObjectId) -> dict:
    """The filter of a conditional update of the user that proves the owner remains (matched)."""
    return {"_id": user_id, "deleting": {"$ne": True}}


def owner_field(cls: type[Document]) -> str | None:
    """The field by which documents of `cls` belong to a user (a CASCADE reference), or None."""
    for (klass, field), rule in (User._meta.get("delete_rules") or {}).items():
        if klass is cls and rule == CASCADE:
            return field
    return None


def _user_id(value) -> ObjectId | None:
    if isinstance(value, (DBRef, Document)):
        return value.id
    return value if isinstance(value, ObjectId) else None


class OwnerGuard:
    """What was written for one user inside an `owner_guard` block, and whether the owner has
    been proven to remain after those writes."""

    def __init__(self, user_id: ObjectId):
        self.user_id = user_id
        self.writes: list[tuple[type[Document], dict]] = []
        self.proof: bool | None = None

    def written(self, cls: type[Document], query: dict) -> None:
        """A write into `cls`'s collection that `query` finds again (to remove it if the owner
        turns out to be gone). Writes after a proof need a new one."""
        self.writes.append((cls, query))
        self.proof = None

    def proven(self, matched: bool) -> None:
        """The block's own conditional update of the user (`alive_filter`) matched or not."""
        self.proof = bool(matched)

    def undo(self) -> None:
        for cls, query in reversed(self.writes):
            cls._get_collection().delete_many(query)

    def settle(self) -> None:
        """Prove the owner (one read, unless the block did) and undo everything if gone: 404."""
        if not self.writes:
            return
        remains = self.proof if self.proof is not None else owner_remains(user_id=self.user_id)
        if not remains:
            self.undo()
            raise NotFound(NO_USER)


def _active(user_id: ObjectId) -> OwnerGuard | None:
    for guard in reversed(getattr(_local, "guards", [])):
        if guard.user_id is None:  # a block opened before it knew its user takes the first one
            guard.user_id = user_id
        if guard.user_id == user_id:
            return guard
    return None


@contextmanager
def owner_guard(user_id: ObjectId | None) -> Iterator[OwnerGuard]:
    """Write things that belong to `user_id` inside; at the end the owner is proven once (or by
    the block's `guard.proven`) and, if gone, every write of the block is removed (404).
    `None`: the block learns its user from its first guarded write (a login's second step finds
    its user in the mfa_token)."""
    guard = OwnerGuard(user_id)
    stack = getattr(_local, "guards", None)
    if stack is None:
        stack = _local.guards = []
    stack.append(guard)
    try:
        yield guard
    except BaseException:
        stack.remove(guard)
        # A failure answer (a wrong password, say) still leaves nothing behind for a user gone.
        try:
            guard.settle()
        except NotFound:
            pass
        raise
    stack.remove(guard)
    guard.settle()
    outer = _active(user_id)
    if guard.proof and outer is not None:
        # Proven after every write the enclosing block made so far: that proof covers them too.
        outer.proof = True


def insert_write(document: Document) -> batch.Write:
    """`document`, validated, as an insert for `common/batch.py`, guarded as its `save()` would be:
    inside the `owner_guard` block of its owner (required), whose proof must come after it (the
    block's conditional update of the user, last in the same ordered batch)."""
    document.validate()
    if document.pk is None:
        document.pk = ObjectId()
    field = owner_field(type(document))
    user_id = _user_id(document._data.get(field)) if field else None
    if user_id is not None:
        guard = _active(user_id)
        if guard is None:
            raise RuntimeError(f"a batched {type(document).__name__} of user {user_id} outside its owner_guard block")
        guard.written(type(document), {"_id": document.pk})
    return batch.insert(type(document), document.to_mongo().to_dict())


def guarded(user_id: ObjectId, cls: type[Document], query: dict) -> None:
    """After one raw write into `cls` found again by `query`: prove the owner, or undo it (404)."""
    guard = _active(user_id)
    if guard is not None:
        guard.written(cls, query)
        return
    standalone = OwnerGuard(user_id)
    standalone.written(cls, query)
    standalone.settle()


def guarded_jobs(cls: type[Document], ids_by_user: dict[ObjectId, list]) -> list[ObjectId]:
    """After one raw insert of several users' documents into `cls` (user id -> the ids written for
    them): those of a user whose `owner_guard` block is open join that block; the others are
    proven with ONE read for all their users, and the documents of users gone or going are removed
    (no 404: a batch answers for the users that remain, and a job about a user gone is no longer
    anybody's). Returns the ids of the users whose documents were removed."""
    rest = {}
    for user_id, ids in ids_by_user.items():
        guard = _active(user_id)
        if guard is not None:
            guard.written(cls, {"_id": {"$in": list(ids)}})
        else:
            rest[user_id] = ids
    if not rest:
        return []
    remaining = {d["_id"] for d in User._get_collection().find({"_id": {"$in": list(rest)}, "deleting": {"$ne": True}}, {"_id": 1})}
    gone = [user_id for user_id in rest if user_id not in remaining]
    if gone:
        cls._get_collection().delete_many({"_id": {"$in": [i for user_id in gone for i in rest[user_id]]}})
    return gone


def _after_save(sender, document, **kwargs) -> None:
    """MongoEngine's post_save, for every document class: a saved document that belongs to a
    user (by its CASCADE declaration) is guarded. An update counts too: `save()` of a loaded
    document upserts, so it would re-create one the chain delete has just removed."""
    field = owner_field(type(document))
    if field is None:
        return
    user_id = _user_id(document._data.get(field))
    if user_id is None:
        return
    guarded(user_id, type(document), {"_id": document.pk})


signals.post_save.connect(_after_save)
