"""The test suite's in-memory store: mongomock, made to answer as fast as the suite needs.

mongomock is the fast backend of the test suite only (config/settings/test.py selects it when
TEST_MONGODB_URI is unset); the service itself always talks to a real server (the embedded
SecantusDB or MONGODB_URI). These patches change how mongomock finds documents, never what it
answers (tests/test_inmemory_store.py compares them with mongomock's own code). `install()` is
idempotent and touches mongomock's classes only.
"""
from datetime import datetime


def install() -> None:
    """GridFS on mongomock, and the two shortcuts below."""
    import mongomock.gridfs

    mongomock.gridfs.enable_gridfs_integration()
    _aggregate_match_first()
    _find_by_id_direct()
    _bulk_update_sort_ignored()
    _writes_atomic()


def _writes_atomic() -> None:
    """MongoDB applies each single-document write atomically (a conditional `$inc` or update
    matches and changes the document as one step); mongomock 4.3 reads, tests and writes in
    Python with no lock, so two threads can both match `count < 5` and both increment. One lock
    around every write method makes the in-memory store keep MongoDB's promise, so the race tests
    (50 parallel guesses against the lock-out, racing confirms) test the service, not the fake.
    Idempotent."""
    import threading

    from mongomock.collection import Collection

    if getattr(Collection, "_writes_atomic", False):
        return
    lock = threading.RLock()
    names = (
        "insert_one insert_many update_one update_many replace_one delete_one delete_many "
        "find_one_and_update find_one_and_replace find_one_and_delete bulk_write"
    ).split()
    for name in names:
        original = getattr(Collection, name)

        def locked(self, *args, __original=original, **kwargs):
            with lock:
                return __original(self, *args, **kwargs)

        locked.__name__ = name
        setattr(Collection, name, locked)
    Collection._writes_atomic = True


def _bulk_update_sort_ignored() -> None:
    """pymongo 4.11+ hands every UpdateOne of a bulk_write a `sort` argument (None unless given)
    that mongomock 4.3's bulk builder does not take: accept and drop it, so `bulk_write` (the
    lock-out's one round trip for two counters) runs on the in-memory store. Idempotent."""
    from mongomock.collection import BulkOperationBuilder

    original = BulkOperationBuilder.add_update
    if getattr(original, "sort_ignored", False):
        return

    def add_update(self, selector, doc, multi=False, upsert=False, collation=None, array_filters=None, hint=None, sort=None):
        if sort is not None:
            raise NotImplementedError("sort in a bulk update is not supported on the in-memory store")
        return original(self, selector, doc, multi=multi, upsert=upsert, collation=collation, array_filters=array_filters, hint=hint)

    add_update.sort_ignored = True
    BulkOperationBuilder.add_update = add_update


def _has_datetime(value) -> bool:
    if isinstance(value, dict):
        return any(_has_datetime(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_datetime(v) for v in value)
    return isinstance(value, datetime)


def _aggregate_match_first() -> None:
    """Make the in-memory store's aggregate() start from a leading $match's documents.

    mongomock's aggregate() deep-copies every document of the collection before the first stage
    runs, so the user-with-details join (`$match` on one `_id`, then `$lookup`s) cost as much as
    reading all users. Here a leading `$match` first selects its documents with find() (the same
    filter code, the same copies), and then the whole pipeline, that `$match` included, runs on
    them: the result is the same, the work is that of the matched documents. A filter holding a
    datetime is left alone (mongomock adjusts time zones in `$match` but not in find()).
    Only mongomock is touched; a real MongoDB never sees this. Idempotent.
    """
    import mongomock.aggregate
    from mongomock.collection import Collection

    if getattr(Collection.aggregate, "match_first", False):
        return
    original = Collection.aggregate

    def aggregate(self, pipeline, session=None, **kwargs):
        pipeline = list(pipeline)
        first = pipeline[0] if pipeline else None
        if session is None and isinstance(first, dict) and list(first) == ["$match"] and not _has_datetime(first["$match"]):
            return mongomock.aggregate.process_pipeline(list(self.find(first["$match"])), self.database, pipeline, None)
        return original(self, pipeline, session=session, **kwargs)

    aggregate.match_first = True
    aggregate.__wrapped__ = original
    Collection.aggregate = aggregate


def _find_by_id_direct() -> None:
    """Make the in-memory store find a document by its `_id` without scanning the collection.

    mongomock tests every document of a collection against every filter, so loading the caller
    of each request (`{"_id": ...}`) cost more the more users there were. Its store is keyed by
    `_id`: a filter that is exactly one ObjectId `_id` now reads that key (the store's own lookup,
    which drops expired TTL documents as a scan would) and still tests the filter on it. Every
    other filter scans as before. Used by find, update and delete alike. Idempotent.
    """
    from bson import ObjectId
    from mongomock.collection import Collection
    from mongomock.filtering import filter_applies

    if getattr(Collection._iter_documents, "by_id", False):
        return
    original = Collection._iter_documents

    def _iter_documents(self, filter):
        if type(filter) is dict and len(filter) == 1 and type(filter.get("_id")) is ObjectId:
            try:
                document = self._store[filter["_id"]]
            except KeyError:
                return iter(())
            return iter([document] if filter_applies(filter, document) else [])
        return original(self, filter)

    _iter_documents.by_id = True
    _iter_documents.__wrapped__ = original
    Collection._iter_documents = _iter_documents
