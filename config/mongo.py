"""The MongoDB connection: a real server when MONGODB_URI is set, otherwise an in-memory one."""
import logging

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
    mongoengine.connect(
        settings.MONGODB_DB,
        host="mongodb://localhost",
        mongo_client_class=mongomock.MongoClient,
        uuidRepresentation="standard",
        tz_aware=True,
    )
    logger.warning(IN_MEMORY_WARNING)


def ping() -> bool:
    """True when the database answers a ping."""
    try:
        mongoengine.get_db().command("ping")
    except Exception:  # any driver failure means "not reachable" for a health check
        logger.exception("database ping failed")
        return False
    return True
