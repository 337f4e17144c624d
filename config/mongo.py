"""The MongoDB connection: a real server when MONGODB_URI is set, otherwise an in-memory one."""
import logging
from datetime import datetime

import mongoengine
from django.conf import settings

logger = logging.getLogger(__name__)

IN_MEMORY_WARNING = (
    "\n" + "!" * 78 + "\n"
    "!! MONGODB_URI is not set: using an IN-MEMORY database (mongomock).\n"
    "!! Everything stored is LOST when this process ends, and no other process can see it.\n"
    "!! Set MONGODB_URI (see README) to keep data.\n" + "!" * 78
)


def connect() -> None:
    """Open the default connection once per process; safe to call again."""
    mongoengine.disconnect()
    if settings.MONGODB_URI:
        mongoengine.connect(
            db=settings.MONGODB_DB,
            host=settings.MONGODB_URI,
            uuidRepresentation="standard",
            tz_aware=True,
            serverSelectionTimeoutMS=5000,
            **settings.MONGODB_CLIENT_OPTIONS,
        )
        return
    import mongomock
    import mongomock.gridfs

    mongomock.gridfs.enable_gridfs_integration()
    _aggregate_match_first()
    _find_by_id_direct()
    mongoengine.connect(
        settings.MONGODB_DB,
        host="mongodb://localhost",
        mongo_client_class=mongomock.MongoClient,
        uuidRepresentation="standard",
        tz_aware=True,
    )
    logger.warning(IN_MEMORY_WARNING)


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
    Only the in-memory store is touched; a real MongoDB never sees this. Idempotent.
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


def ping() -> bool:
    """True when the database answers a ping."""
    try:
        mongoengine.get_db().command("ping")
    except Exception:  # any driver failure means "not reachable" for a health check
        logger.exception("database ping failed")
        return False
    return True
