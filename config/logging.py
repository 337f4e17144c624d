"""Request ids and the one-line-per-request log.

Each request gets an id (the client's `X-Request-ID` if it is a sane token, else a new one),
returned in the `X-Request-ID` response header and carried by every log record created while the
request runs (audit events included), whichever logger or handler writes it. The request line
holds method, path, status, duration and user id: never a header, body, query string or token,
so no secret can reach the log. LOG_JSON switches the console handler to one JSON object a line.
"""
import copy
import logging
import os
import queue
import random
import re
import sys
import threading
import time
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

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_text:
            # Another handler's formatter (a test's capture, an error tracker) may have formatted
            # the record first and cached its own, unmarked traceback on it; logging would reuse
            # it. This handler formats later (in its writer thread), so it marks its own copy.
            cached, record = record.exc_text, copy.copy(record)
            record.exc_text = None if record.exc_info else self._continuation(cached)
        return super().format(record)

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return self._continuation(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return self._continuation(stack_info)

    @staticmethod
    def _continuation(text: str) -> str:
        return "\n".join("  | " + escape_control(line) for line in text.split("\n"))


class BackgroundStreamHandler(logging.Handler):
    """The console handler (LOG_BACKGROUND, on by default): a request thread only queues its
    record (the filters, request id and escaping included, run in that thread when it logs);
    one writer thread per process formats what is queued and writes it in one `write` call.

    Why: written in the request's thread, the request line cost 17% of a signed-in read's CPU
    under granian (2,352 against 1,949 µs, `/users/me` with the log off; issue 26): the stream's
    lock, a `write` and a `flush` per line, each system call giving up the GIL under load. Queued,
    a line costs the request a `put`, and under load one `write` carries many lines.

    The writer, woken by a line, waits GATHER_SECONDS before it takes what is queued: the lines
    queued meanwhile find nobody to wake, so under load it wakes (and takes the GIL from the
    request threads) about 50 times a second instead of once a request. `python bench/ab.py`
    with the wait against without it (a temporary switch), 8 rounds of 5 s, twice: 1,250 and
    1,363 µs of service CPU per `/users/me` against 1,480 and 1,460-1,500 µs (an unchanged twin in
    the second run), switches a request 13.3-13.9 against 14.5-14.8. A line reaches the stream
    at most that much later; an idle process does not wake at all.

    Nothing is lost at a normal exit: `flush` (called by `logging.shutdown` at exit) returns once
    the writer has written everything queued before it. After a fork the child starts a writer of its own, on a queue of its own.
    A process killed outright loses the lines of its last moments, as a buffered stream would.
    """

    GATHER_SECONDS = 0.02

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream if stream is not None else sys.stderr
        self._start_lock = threading.Lock()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._pid: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self._pid != os.getpid():
            self._start()
        self._queue.put(record)

    def _start(self) -> None:
        with self._start_lock:
            if self._pid == os.getpid():
                return
            self._queue = queue.SimpleQueue()  # a forked child's own: the parent's records are the parent's
            threading.Thread(target=self._run, args=(self._queue,), name="log-writer", daemon=True).start()
            self._pid = os.getpid()

    def _run(self, items: queue.SimpleQueue) -> None:
        """The writer: everything queued by the time it looks goes out in one write, in order."""
        while True:
            batch = [items.get()]
            time.sleep(self.GATHER_SECONDS)  # lines queued meanwhile wake nobody: they wait for this
            while True:
                try:
                    batch.append(items.get_nowait())
                except queue.Empty:
                    break
            records = [item for item in batch if isinstance(item, logging.LogRecord)]
            lines = []
            for record in records:
                try:
                    lines.append(self.format(record) + "\n")
                except Exception:  # noqa: BLE001 - logging's own rule: a bad record never raises
                    self.handleError(record)
            if lines:
                try:
                    self.stream.write("".join(lines))
                    self.stream.flush()
                except Exception:  # noqa: BLE001
                    self.handleError(records[-1])
            for item in batch:
                if isinstance(item, threading.Event):  # a `flush` waiting for what came before it
                    item.set()

    def setStream(self, stream):  # noqa: N802 - logging's name (StreamHandler's)
        """Write to `stream` from now on (what was queued before goes to the old one); the old one."""
        self.flush()
        previous, self.stream = self.stream, stream
        return previous

    def flush(self) -> None:
        """Return once every line queued before this call is written (at exit: `logging.shutdown`)."""
        if self._pid != os.getpid():
            return
        written = threading.Event()
        self._queue.put(written)
        written.wait(timeout=5)


class DropRequestObjectFilter(logging.Filter):
    """Django's loggers (django.request, django.security.*) attach the request object; a JSON
    formatter would write its repr, query string included. Keep method and path only."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None and not isinstance(request, str):
            record.request = f"{getattr(request, 'method', '')} {getattr(request, 'path', '')}".strip()
        return True


def request_id_new() -> str:
    """A new request id: 128 random bits in 32 hex digits, as `uuid4().hex` gives. An id ties log
    lines together and is no secret, so it comes from the process's PRNG (seeded from the OS at
    start) rather than `os.urandom`, whose system call, one a request, released and re-took the
    GIL under load (issue 26: ~6% of a signed-in read's busy samples, py-spy under granian)."""
    return f"{random.getrandbits(128):032x}"


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else request_id_new()
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
