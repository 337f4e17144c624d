"""The API errors that DRF does not ship and both apps raise, and which database errors mean
"unreachable" (a 503 from the API and from the browser login alike, never a 500)."""
from django.conf import settings
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


# pymongo's errors for a database that cannot be reached (no server selected, connection lost).
DATABASE_UNREACHABLE = (ConnectionFailure, ServerSelectionTimeoutError)
