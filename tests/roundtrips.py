"""Counting database round trips at the driver boundary, whatever the backend.

- Real MongoDB: a `pymongo.monitoring.CommandListener` (passed to the client by the test
  settings) sees every command sent to the server.
- mongomock: every public operation of `mongomock.collection.Collection` is one round trip;
  calls that an operation makes internally (find_one calls find) are not counted twice.
Index creation (done once per process by MongoEngine) is not counted.
"""
import functools
import threading

from pymongo import monitoring

_NOT_ROUND_TRIPS = {"createIndexes", "listIndexes", "endSessions", "hello", "isMaster", "ismaster", "ping", "buildInfo"}
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
                counter._record(method.__name__)
            counter._local.depth = depth + 1
            try:
                return method(*args, **kwargs)
            finally:
                counter._local.depth = depth

        return wrapper

    def patch_mongomock(self) -> None:
        import mongomock.collection

        for name in MONGOMOCK_OPERATIONS:
            method = getattr(mongomock.collection.Collection, name)
            if not getattr(method, "_counted", False):
                wrapped = self.wrap(method)
                wrapped._counted = True
                setattr(mongomock.collection.Collection, name, wrapped)


COUNTER = RoundTripCounter()
