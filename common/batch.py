"""Writes into several collections in one round trip: MongoDB 8.0's client-level `bulkWrite`.

A login writes into four collections (the lock-out's counters, the audit log, the session, the
user). Sent one by one, each is a round trip that waits for the journal; sent together with
`MongoClient.bulk_write` (the server's `bulkWrite` command, MongoDB 8.0+ and SecantusDB), they
are one, and the server commits them in one journal write.

`writes_together(writes, ordered=...)` takes `Write`s built by `insert`, `update` and `delete`
and gives back, per write, how many documents it matched and which failed with which error
code. Ordered (the default), the server stops at the first failure, so a write placed last (the
owner guard's conditional update of the user, say) runs only if everything before it did.

Servers before 8.0 have no `bulkWrite`, and mongomock has no `MongoClient.bulk_write`: there the
same writes are sent one by one, in order, with the same results (`one_by_one`); on a server
that is one round trip per write, as before. The first refusal of a client is remembered, so
an old server costs the failed attempt once per process. mongomock stands in for one server
round trip (tests/roundtrips.py counts `one_by_one` as one there).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mongoengine import Document
from pymongo import DeleteOne, InsertOne, MongoClient, UpdateOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, ClientBulkWriteException, InvalidOperation, WriteError

_without_bulk_write: set[int] = set()  # id() of clients whose server has no `bulkWrite`


@dataclass
class Write:
    """One write of a batch: into `collection`, `kind` is "insert", "update" or "delete"."""

    collection: Any  # a pymongo (or mongomock) Collection
    kind: str
    filter: dict | None = None
    update: dict | None = None
    document: dict | None = None
    upsert: bool = False

    def namespaced(self):
        """The write as a model of `MongoClient.bulk_write`."""
        ns = f"{self.collection.database.name}.{self.collection.name}"
        if self.kind == "insert":
            return InsertOne(self.document, namespace=ns)
        if self.kind == "update":
            return UpdateOne(self.filter, self.update, upsert=self.upsert, namespace=ns)
        return DeleteOne(self.filter, namespace=ns)

    def run_alone(self) -> int:
        """Send this write by itself; the number of documents it matched (1 for an insert)."""
        if self.kind == "insert":
            self.collection.insert_one(self.document)
            return 1
        if self.kind == "update":
            return self.collection.update_one(self.filter, self.update, upsert=self.upsert).matched_count
        return self.collection.delete_one(self.filter).deleted_count


def _collection(where) -> Collection:
    return where._get_collection() if isinstance(where, type) and issubclass(where, Document) else where


def insert(where, document: dict) -> Write:
    """Insert `document` into `where` (a Document class or a collection)."""
    return Write(_collection(where), "insert", document=document)


def update(where, filter: dict, update: dict, *, upsert: bool = False) -> Write:
    """Update the first document of `where` matching `filter`."""
    return Write(_collection(where), "update", filter=filter, update=update, upsert=upsert)


def delete(where, filter: dict) -> Write:
    """Delete the first document of `where` matching `filter`."""
    return Write(_collection(where), "delete", filter=filter)


@dataclass
class Outcome:
    """Per write (by its index in the batch): documents matched (None: not run, or failed), and
    the error code of each write that failed (11000: a duplicate key)."""

    matched: list[int | None]
    errors: dict[int, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def writes_together(writes: list[Write], *, ordered: bool = True) -> Outcome:
    """Send `writes` (all on one client) in one round trip where the server can; see the module."""
    if not writes:
        return Outcome(matched=[])
    client = writes[0].collection.database.client
    if not isinstance(client, MongoClient) or id(client) in _without_bulk_write:  # mongomock's is not
        return one_by_one(writes, ordered=ordered)
    try:
        result = client.bulk_write([w.namespaced() for w in writes], ordered=ordered, verbose_results=True)
    except ClientBulkWriteException as exc:
        if exc.write_concern_errors or not exc.write_errors:  # not durable, or the command failed
            raise
        return _outcome(writes, exc.partial_result, {e["idx"]: e["code"] for e in exc.write_errors or []})
    except InvalidOperation as exc:
        if "8.0" not in str(exc):
            raise
        _without_bulk_write.add(id(client))
        return one_by_one(writes, ordered=ordered)
    return _outcome(writes, result, {})


def _outcome(writes: list[Write], result, errors: dict[int, int]) -> Outcome:
    matched: list[int | None] = [None] * len(writes)
    if result is not None and result.has_verbose_results:
        for i in result.insert_results:
            matched[i] = 1
        for i, r in result.update_results.items():  # an upsert's insert matched nothing (`n` counts it)
            matched[i] = 0 if r.upserted_id is not None else r.matched_count
        for i, r in result.delete_results.items():
            matched[i] = r.deleted_count
    return Outcome(matched=matched, errors=errors)


def one_by_one(writes: list[Write], *, ordered: bool = True) -> Outcome:
    """The same writes, one round trip each (servers before 8.0, and mongomock)."""
    outcome = Outcome(matched=[None] * len(writes))
    for i, write in enumerate(writes):
        try:
            outcome.matched[i] = write.run_alone()
        except (WriteError, BulkWriteError) as exc:
            outcome.errors[i] = getattr(exc, "code", None) or 0
            if ordered:
                break
    return outcome
