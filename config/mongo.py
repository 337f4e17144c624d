"""The MongoDB connection: MONGODB_URI when set, otherwise the embedded SecantusDB server.

`connect()` only registers the connection (no network I/O), so commands that never touch the
database (check, spectacular, collectstatic in the Docker build) start nothing and need nothing.
The first query opens it; on the embedded default, that first use starts the embedded server if
none is running (config/embedded_mongodb.py). The service's start-up (config/wsgi.py) calls
`startup()`, which does that at once and says which database is used and where its data lives.

The test settings name an in-process client class instead (mongomock), so the test suite never
starts a server unless TEST_MONGODB_URI points at one.
"""
import logging
from urllib.parse import parse_qs, urlsplit

import mongoengine
import pymongo
from django.conf import settings
from django.utils.module_loading import import_string
from mongoengine.connection import DEFAULT_CONNECTION_NAME
from pymongo.errors import ConnectionFailure
from pymongo.uri_parser import parse_uri

from config import mongo_reads
from config.embedded_mongodb import EmbeddedDatabaseError, EmbeddedServer
from config.metrics import DATABASE_LISTENER

logger = logging.getLogger(__name__)


class EmbeddedMongoClient(pymongo.MongoClient):
    """A MongoClient that makes sure the embedded server runs before connecting to it."""

    def __init__(self, *args, **kwargs):
        server = EmbeddedServer.from_settings()
        pid, started = server.ensure_running()
        if started:
            logger.warning("Started the embedded database (SecantusDB, pid %s) on %s, data in %s.", pid, server.uri, server.data_dir)
        super().__init__(*args, **kwargs)


def uri_options(uri: str) -> set[str]:
    """The option names a MongoDB URI sets, lower-cased (read from its query string, so a
    `mongodb+srv://` URI costs no DNS lookup here)."""
    return {key.lower() for key in parse_qs(urlsplit(uri).query, keep_blank_values=True)} if uri else set()


def names_replica_set(uri: str) -> bool:
    """A URI that names a replica set: `replicaSet=`, or a `mongodb+srv://` seed list (Atlas,
    whose DNS TXT record names the set)."""
    return bool(uri) and (uri.startswith("mongodb+srv://") or "replicaset" in uri_options(uri))


def uses_tls(uri: str) -> bool:
    """A URI whose connections are TLS: `tls=true`/`ssl=true`, or a `mongodb+srv://` seed list
    (TLS unless it says otherwise)."""
    given = {key.lower(): values[-1].lower() for key, values in parse_qs(urlsplit(uri).query).items()} if uri else {}
    setting = given.get("tls", given.get("ssl"))
    if setting is not None:
        return setting == "true"
    return uri.startswith("mongodb+srv://")


def client_options(uri: str) -> dict:
    """The client options every connection of the service gets (not the tests' mongomock):

    - bounded waits (settings `MONGODB_*_TIMEOUT_MS`): connecting, selecting a server, a reply on
      an open connection (a frozen server: the request fails after it with a 503 instead of
      holding its thread), a free connection from the pool;
    - durable writes: `journal=True` (the server acknowledges a write once it is in the journal
      on disk) and, when the URI names a replica set, `w="majority"` (once a majority of the
      members has it: a failover cannot roll it back). A standalone server or the embedded one
      gets `w=1`, the only level it has.
    Options written in the URI itself win: a URI with `w=` or `journal=` (or `wtimeoutMS=`, any
    timeout) keeps its own value; this default only fills what it leaves unset. pymongo gives
    keyword arguments precedence over the URI, so the ones the URI sets are not passed at all.
    """
    options = {
        "connectTimeoutMS": settings.MONGODB_CONNECT_TIMEOUT_MS,
        "serverSelectionTimeoutMS": settings.MONGODB_SERVER_SELECTION_TIMEOUT_MS,
        "socketTimeoutMS": settings.MONGODB_SOCKET_TIMEOUT_MS,
        "waitQueueTimeoutMS": settings.MONGODB_WAIT_QUEUE_TIMEOUT_MS,
    }
    if settings.MONGODB_DURABLE_WRITES:
        options["journal"] = True
        options["w"] = "majority" if names_replica_set(uri) else 1
    given = uri_options(uri)
    if "j" in given:
        given.add("journal")
    return {key: value for key, value in options.items() if key.lower() not in given}


def connect(*, event_listeners: tuple = ()) -> None:
    """Register the default connection (again: safe to call twice). No network I/O happens here.
    `event_listeners`: pymongo monitoring listeners (the tests count round trips with one)."""
    mongoengine.disconnect()
    common = {"uuidRepresentation": "standard", "tz_aware": True}
    if settings.MONGODB_CLIENT_CLASS:
        mongoengine.register_connection(
            DEFAULT_CONNECTION_NAME,
            db=settings.MONGODB_DB,
            host="mongodb://localhost",
            mongo_client_class=import_string(settings.MONGODB_CLIENT_CLASS),
            **common,
        )
        return
    # Every round trip is counted for /metrics (config/metrics.py), besides any listener given.
    options = {**common, **client_options(settings.MONGODB_URI), "event_listeners": [DATABASE_LISTENER, *event_listeners]}
    blocking = "socketTimeoutMS" in options and settings.MONGODB_BLOCKING_READS and not uses_tls(settings.MONGODB_URI)
    if blocking and mongo_reads.install(options["socketTimeoutMS"]):
        # Blocking sockets, the bound kept by the kernel instead (config/mongo_reads.py).
        options["socketTimeoutMS"] = None
    else:
        mongo_reads.uninstall()
    if settings.MONGODB_URI:
        mongoengine.register_connection(DEFAULT_CONNECTION_NAME, db=settings.MONGODB_DB, host=settings.MONGODB_URI, **options)
        return
    mongoengine.register_connection(
        DEFAULT_CONNECTION_NAME,
        db=settings.MONGODB_DB,
        host=EmbeddedServer.from_settings().uri,
        mongo_client_class=EmbeddedMongoClient,
        **options,
        **EMBEDDED_ONLY_OPTIONS,
    )


# The embedded SecantusDB server is written to without retryable writes (pymongo's `retryWrites`,
# on by default, stays on for every MONGODB_URI). On that server they cost more than they give:
# - it keeps the record of every retryable write for 30 minutes (up to 10,000) and scans them all
#   on each write, sorting them all once there are 10,000: after 10,000 writes a write costs 17-24
#   times what it costs without them (17-21 ms against about 1 ms; 1.5x on a fresh server;
#   `bench/retryable_writes.py`, README "The embedded database");
# - the records live in its memory only: a retry after the server restarted runs the write again
#   anyway, and on loopback a connection lost without a restart is all they would cover.
# A write whose answer is lost fails (a 503) instead of being retried by the driver, as any write
# does while the server is away; an operation of several writes cut short that way is found and
# finished by check_integrity, as after a crash.
EMBEDDED_ONLY_OPTIONS = {"retryWrites": False}


def is_embedded() -> bool:
    return not settings.MONGODB_URI and not settings.MONGODB_CLIENT_CLASS


def describe() -> str:
    """Which database this process uses, in one line, never with a password."""
    db = mongoengine.get_db().name
    if settings.MONGODB_CLIENT_CLASS:
        return f"in-process {settings.MONGODB_CLIENT_CLASS}, database {db!r} (tests only)"
    if settings.MONGODB_URI:
        hosts = ",".join(f"{h}:{p}" for h, p in parse_uri(settings.MONGODB_URI)["nodelist"]) or "(DNS seed list)"
        return f"MongoDB at {hosts} (MONGODB_URI), database {db!r}"
    server = EmbeddedServer.from_settings()
    return (
        f"embedded SecantusDB at {server.uri}, database {db!r}, data in {server.data_dir} "
        "(kept across restarts; stop: `python manage.py embedded_db stop`, wipe: `python manage.py embedded_db wipe`)"
    )


def startup() -> None:
    """At service start-up: on the embedded default, start the server unless it runs, and check
    it answers; create every collection's indexes (`indexes_ensure`); then say which database is
    used. Raises EmbeddedDatabaseError (one line saying what to do). A MONGODB_URI server is not
    waited for: /health reports it until it answers, and its indexes are made on first use."""
    if is_embedded():
        try:
            mongoengine.get_db().command("ping")
        except ConnectionFailure as exc:
            raise EmbeddedDatabaseError(
                f"The embedded database at {EmbeddedServer.from_settings().uri} does not answer ({type(exc).__name__}): "
                "run `python manage.py embedded_db stop` and start again, or set MONGODB_URI."
            ) from None
    try:
        indexes_ensure()
    except ConnectionFailure as exc:
        if is_embedded():
            raise
        logger.warning("Indexes not checked at start-up (%s): each collection's are made on its first use.", type(exc).__name__)
    logger.warning("Database: %s", describe())


def indexes_ensure() -> int:
    """Create the indexes of every document class now, before the first request; returns how many
    classes have a collection.

    Promises such as "5 guesses, then 429" (the lock-out's counter, one document per key) and "one
    account per email" are kept by unique indexes. MongoEngine makes a collection's indexes on its
    first use in a process and publishes the collection before they exist, so on an empty database
    the first requests, racing in parallel, could write before the unique index did (the lock-out
    then let 7 of 50 parallel guesses through). Made once at start-up, the indexes exist before
    anything is served. Idempotent: an index that exists costs one round trip to confirm."""
    from mongoengine.base.common import _document_registry

    made = 0
    for cls in list(_document_registry.values()):
        if not getattr(cls, "_is_document", False) or cls._meta.get("abstract"):
            continue  # embedded documents and abstract bases have no collection
        cls._get_collection()  # MongoEngine creates the indexes when it first opens the collection
        cls.ensure_indexes()  # and again here, when the collection was opened before a reconnect
        made += 1
    return made


def problem(exc: BaseException) -> str | None:
    """The one-line explanation when `exc` (or what caused it) means the database cannot be
    started or reached; None for any other error. mongoengine wraps client errors in its own
    ConnectionFailure, so the chain of causes is searched."""
    seen = exc
    while seen is not None:
        if isinstance(seen, EmbeddedDatabaseError):
            return str(seen)
        if isinstance(seen, ConnectionFailure):
            where = "the embedded database" if is_embedded() else "the MongoDB server of MONGODB_URI"
            return f"Cannot reach {where} ({type(seen).__name__}): start it, or check MONGODB_URI."
        seen = seen.__cause__ or seen.__context__
    return None


def ping() -> bool:
    """True when the database answers a ping."""
    try:
        mongoengine.get_db().command("ping")
    except Exception:  # any driver failure means "not reachable" for a health check
        logger.exception("database ping failed")
        return False
    return True
