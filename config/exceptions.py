"""DRF's exception handler, extended so that no database error becomes a bare 500: the one mapping
of database failures to a 503 is `common.exceptions.database_unavailable`."""
import logging

from django.core.exceptions import RequestDataTooBig
from mongoengine.errors import DoesNotExist
from mongoengine.errors import ValidationError as MongoValidationError
from rest_framework.exceptions import NotFound, ParseError, ValidationError
from rest_framework.views import exception_handler as drf_exception_handler

from common.exceptions import body_too_large, database_unavailable

logger = logging.getLogger(__name__)

# What a 503 of the database asks a client to wait before trying again.
RETRY_AFTER_SECONDS = 5



def _raised_by_json_decoding(exc: BaseException) -> bool:
    """True when `exc` came from inside the json module, as RecursionError does for a body nested
    past the interpreter's recursion limit (DRF's JSONParser only turns ValueError into a 400)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").startswith("json"):
            return True
        tb = tb.tb_next
    return False


def exception_handler(exc, context):
    if isinstance(exc, RecursionError) and _raised_by_json_decoding(exc):
        exc = ParseError("JSON parse error - the document is nested too deeply.")
    elif isinstance(exc, RequestDataTooBig):
        # The client's mistake, found when the body was read (its length was not declared).
        logger.warning("refused a request body past DATA_UPLOAD_MAX_MEMORY_SIZE: 413")
        exc = body_too_large()
    elif isinstance(exc, DoesNotExist):
        exc = NotFound()
    elif isinstance(exc, MongoValidationError):
        exc = ValidationError({"detail": [str(exc.message)]})
    elif (unavailable := database_unavailable(exc)) is not None:
        # A database that cannot be reached in time, or cannot store (a full disk): 503 with a
        # body that says which, and Retry-After; logged with its cause for the operator.
        logger.exception("database unavailable (%s)", unavailable.default_code)
        exc = unavailable
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == 503:
        response.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
    if response is not None and getattr(exc, "extra", None):
        response.data.update(exc.extra)
    return response
