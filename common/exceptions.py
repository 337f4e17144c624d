"""The API errors that DRF does not ship and both apps raise, and the one mapping of database
errors to a 503 (from the API and from the browser login alike, never a 500).

Two kinds of database failure are the client's "try again later", not a bug of ours:
- the database cannot be reached in time: no server selected, a connection refused or lost, a
  socket or pool wait past its bound (config/mongo.py sets every one of them), which pymongo
  raises as `ConnectionFailure` and its subclasses (`NetworkTimeout`, `WaitQueueTimeoutError`);
- the database answers but cannot store or serve: a full disk or a crashed storage engine (a
  real mongod answers `OutOfDiskSpace`; SecantusDB, whose WiredTiger stops, answers every command
  with `InternalError`), a write concern it could not satisfy (the journal, a majority), a
  server shutting down or stepping down. pymongo raises these as `OperationFailure` with a code.
Everything else (a bad query, a duplicate key) stays what it is: a bug is a 500, a duplicate
is decided where it is expected.
"""
from django.conf import settings
from pymongo.errors import ConnectionFailure, OperationFailure, WriteConcernError
from rest_framework import status
from rest_framework.exceptions import APIException


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"

    def __init__(self, detail=None, code=None, **extra):
        super().__init__(detail, code)
        # Extra keys (such as suggested_usernames) rendered beside "detail".
        self.extra = extra


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request is too large."
    default_code = "payload_too_large"


def body_too_large() -> PayloadTooLarge:
    """413 for a body past DATA_UPLOAD_MAX_MEMORY_SIZE (config/request_guard.py, config/exceptions.py)."""
    return PayloadTooLarge(f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")


class ServiceUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The database cannot be reached. Try again later."
    default_code = "service_unavailable"


class StorageUnavailable(ServiceUnavailable):
    default_detail = "The database cannot store data right now (storage failure). Nothing was changed for certain; try again later."
    default_code = "storage_unavailable"


# pymongo's errors for a database that cannot be reached (no server selected, connection lost,
# a socket timeout, a wait for a pooled connection past its bound).
DATABASE_UNREACHABLE = (ConnectionFailure,)

# Server error codes that mean "the server cannot do this now", never "the request is wrong":
# https://github.com/mongodb/mongo/blob/master/src/mongo/base/error_codes.yml
STORAGE_FAILURE_CODES = frozenset(
    {
        1,  # InternalError: SecantusDB's answer to every command once WiredTiger stopped (full disk)
        6,  # HostUnreachable
        7,  # HostNotFound
        8,  # UnknownError
        24,  # LockTimeout
        46,  # LockBusy
        50,  # MaxTimeMSExpired
        64,  # WriteConcernFailed
        89,  # NetworkTimeout
        91,  # ShutdownInProgress
        100,  # UnsatisfiableWriteConcern
        189,  # PrimarySteppedDown
        262,  # ExceededTimeLimit
        10107,  # NotWritablePrimary
        11600,  # InterruptedAtShutdown
        11602,  # InterruptedDueToReplStateChange
        13435,  # NotPrimaryNoSecondaryOk
        13436,  # NotPrimaryOrSecondary
        14031,  # OutOfDiskSpace
    }
)


def _causes(exc: BaseException):
    """`exc` and what caused it: mongoengine re-raises pymongo's errors as its own (OperationError)
    inside the `except`, so the driver's error is found in the chain."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def storage_failure(exc: BaseException) -> bool:
    """True when `exc` (or its cause) is the database unable to store or serve (see the module)."""
    for err in _causes(exc):
        if isinstance(err, WriteConcernError):
            return True
        if isinstance(err, OperationFailure):
            details = err.details or {}
            if details.get("writeConcernErrors"):  # a bulk write's
                return True
            codes = {err.code} | {e.get("code") for e in details.get("writeErrors", ()) if isinstance(e, dict)}
            return bool(codes & STORAGE_FAILURE_CODES)
    return False


def database_unavailable(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 to answer for `exc`, or None when it is no database failure. The one mapping."""
    for err in _causes(exc):
        if isinstance(err, DATABASE_UNREACHABLE):
            return ServiceUnavailable()
    if storage_failure(exc):
        return StorageUnavailable()
    return None
