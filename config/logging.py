"""Request ids and the one-line-per-request log.

Each request gets an id (the client's `X-Request-ID` if it is a sane token, else a new one),
returned in the `X-Request-ID` response header and carried by every log record created while the
request runs (audit events included), whichever logger or handler writes it. The request line
holds method, path, status, duration and user id: never a header, body, query string or token,
so no secret can reach the log. LOG_JSON switches the console handler to one JSON object a line.
"""
import logging
import re
import time
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
logger = logging.getLogger("access")

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _install_record_factory() -> None:
    """Stamp `request_id` on every record at creation, so handlers that are not ours (pytest's
    caplog, an error tracker) see it too. Idempotent: installed once per process."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "stamps_request_id", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = request_id_var.get()
        return record

    factory.stamps_request_id = True
    logging.setLogRecordFactory(factory)


_install_record_factory()


class RequestIdFilter(logging.Filter):
    """Makes sure a formatter that names `%(request_id)s` always finds it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


# C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the bidirectional
# controls that can make a line read otherwise than it is written.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def escape_control(text: str) -> str:
    """`text` with every control character written as an escape (`\\n`, `\\x1b`, `\\u202e`)."""
    return _CONTROL.sub(_escaped, text)


class EscapeControlFilter(logging.Filter):
    """Log injection (OWASP ASVS 16.4.1): whatever a client wrote (path, user agent, reason, names,
    an exception's message) ends up in a record's message through its arguments. The message is
    formatted here and its control characters escaped, so a record is one line and no client can
    forge another, whichever logger wrote it. Runs once per record, on the console handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        escaped = escape_control(message)
        if escaped != message or record.args:
            record.msg, record.args = escaped, None
        return True


class PlainFormatter(logging.Formatter):
    """The plain-text line. A traceback (the only text allowed to span lines) has every line
    marked with `  | `, so none of it, even an exception message a client chose, can pass for a
    record of its own."""

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return self._continuation(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return self._continuation(stack_info)

    @staticmethod
    def _continuation(text: str) -> str:
        return "\n".join("  | " + escape_control(line) for line in text.split("\n"))


class DropRequestObjectFilter(logging.Filter):
    """Django's loggers (django.request, django.security.*) attach the request object; a JSON
    formatter would write its repr, query string included. Keep method and path only."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None and not isinstance(request, str):
            record.request = f"{getattr(request, 'method', '')} {getattr(request, 'path', '')}".strip()
        return True


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            user = getattr(request, "user", None)
            logger.info(
                "%s %s %s %.1fms",
                request.method,
                request.path,
                response.status_code,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                    "user_id": str(getattr(user, "id", "") or "") or None,
                },
            )
            return response
        finally:
            request_id_var.reset(token)
