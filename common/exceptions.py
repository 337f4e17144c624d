"""The API errors that DRF does not ship and both apps raise, and which database errors mean
"unreachable" (a 503 from the API and from the browser login alike, never a 500)."""
from pymongo.errors import ConnectionFailure, ServerSelectionTimeoutError
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


class ServiceUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The database cannot be reached. Try again later."
    default_code = "service_unavailable"


# pymongo's errors for a database that cannot be reached (no server selected, connection lost).
DATABASE_UNREACHABLE = (ConnectionFailure, ServerSelectionTimeoutError)
