"""Counting database round trips at the driver boundary, whatever the backend.

- Real MongoDB: a `pymongo.monitoring.CommandListener` (passed to the client by the test
  settings) sees every command sent to the server.
- mongomock: every public operation of `mongomock.collection.Collection` is one round trip, and
  so are `Database.command` (a ping) and common/batch.py's `one_by_one` (the stand-in for
  MongoDB 8.0's one `bulkWrite` command, which mongomock lacks); calls that an operation makes internally (find_one calls
  find) are not counted twice.
The two give the same figures for every request (tests/test_round_trip_budgets.py, run on both
in CI). Index creation (done once per process by MongoEngine) and the driver's own handshakes
are not counted.
"""
import functools
import threading

from django.conf import settings as django_settings
from pymongo import monitoring

_NOT_ROUND_TRIPS = {"createIndexes", "listIndexes", "endSessions", "hello", "isMaster", "ismaster", "buildInfo"}
MONGOMOCK_OPERATIONS = (
    "insert_one insert_many find find_one find_one_and_update find_one_and_replace find_one_and_delete "
    "update_one update_many replace_one delete_one delete_many count_documents estimated_document_count "
    "aggregate distinct bulk_write"
).split()


class RoundTripCounter(monitoring.CommandListener):
    def __init__(self):
        self.count = 0
        self.commands: list[str] = []
        self._local = threading.local()

    def reset(self) -> None:
        self.count = 0
        self.commands = []

    def _record(self, name: str) -> None:
        if name not in _NOT_ROUND_TRIPS:
            self.count += 1
            self.commands.append(name)

    # pymongo.monitoring.CommandListener
    def started(self, event) -> None:
        self._record(event.command_name)

    def succeeded(self, event) -> None:
        pass

    def failed(self, event) -> None:
        pass

    # mongomock
    def wrap(self, method):
        counter = self

        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            depth = getattr(counter._local, "depth", 0)
            if depth == 0:
                # Database.command(name): named as the server names it, like the listener does.
                name = args[1] if method.__name__ == "command" and len(args) > 1 and isinstance(args[1], str) else method.__name__
                name = "bulkWrite" if method.__name__ == "one_by_one" else name
                counter._record(name)
            counter._local.depth = depth + 1
            try:
                return method(*args, **kwargs)
            finally:
                counter._local.depth = depth

        return wrapper

    def patch_mongomock(self) -> None:
        import mongomock.collection
        import mongomock.database

        from common import batch

        targets = [(mongomock.collection.Collection, name) for name in MONGOMOCK_OPERATIONS]
        # common/batch.py's stand-in for MongoDB 8.0's `bulkWrite`: one command on a server.
        for cls, name in [*targets, (mongomock.database.Database, "command"), (batch, "one_by_one")]:
            method = getattr(cls, name)
            if not getattr(method, "_counted", False):
                wrapped = self.wrap(method)
                wrapped._counted = True
                setattr(cls, name, wrapped)


COUNTER = RoundTripCounter()


# This worker's database (config/settings/test.py), not the raw TEST_MONGODB_URI; read when the
# suite starts (conftest.py imports this module), before any test overrides it.
SUITE_URI = django_settings.MONGODB_URI


def suite_database_back(settings) -> None:
    """The suite's own connection again, with the round-trip counter listening, after a test that
    connected elsewhere (`settings`: pytest-django's fixture, or django.conf.settings once any
    override is over)."""
    from config import mongo

    uri = SUITE_URI
    settings.MONGODB_URI, settings.MONGODB_CLIENT_CLASS = uri, "" if uri else "mongomock.MongoClient"
    mongo.connect(event_listeners=(COUNTER,) if uri else ())
    mongo.indexes_ensure()  # a new in-memory store has none
