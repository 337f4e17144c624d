"""MongoDB's replies read with one system call each; the socket timeout kept by the kernel.

Why. pymongo (4.20) reads a reply in two parts, its 16-byte header and then its body. Around
each part it sets the socket's timeout to half a second and back, so that it can look for a
cancelled operation twice a second. CPython then waits for a socket that has a timeout with a
`poll()` before each `recv()`. A reply costs eight system calls (four `ioctl`, two `poll`, two
`recv`), and the request's `send` costs a `poll` more. Each of them releases the GIL.

With the request threads of a served process runnable, each release hands the GIL to another
thread and back. A served `GET /users/me` (granian, 16 threads, `wrk -c8`) switched context
29 times a request, a third of the process's CPU time being the kernel switching threads. With
blocking reads: 15 switches, and 1,029 µs of service CPU a request against 1,266 µs (967 req/s
against 778); reading a reply's header and body with one `recv`: 13.5 switches, 1,056 µs against
1,131 µs in a second run (931 req/s against 873). Medians of alternating rounds; the README's
"Performance" has the command.

What. The service's connections are opened with no socket timeout in Python, so their sockets
are blocking: a `recv` is one system call, with no `poll` before it. `MONGODB_SOCKET_TIMEOUT_MS`
still bounds every wait for a reply: it is set in the kernel (`SO_RCVTIMEO`, and `SO_SNDTIMEO`
for sends) on each connection before its first reply is read. A wait that runs out raises the
`TimeoutError` that pymongo's own read raises (`NetworkTimeout` to the caller, a 503 to the
client), and a connection whose operation the pool cancelled still raises pymongo's
cancellation.

Where. `install()` replaces `pymongo.network_layer.receive_data`, which `receive_message` (every
reply of the synchronous client) calls. The replacement takes over only a read that pymongo
would have made without any deadline (a socket without a timeout, no `pymongo.timeout()` in
force) on a plain TCP or standard-library TLS socket. Everything else goes to pymongo's own
function unchanged: the monitors' connections (they have `connectTimeoutMS`), an operation under
`pymongo.timeout()`, a URI that sets `socketTimeoutMS` itself. A TLS connection keeps pymongo's
reads and its socket timeout (config/mongo.py does not install this for a URI with TLS: a
blocking TLS socket retries a read the kernel timed out); should another kind of socket come
here without a timeout, pymongo's function reads it, given the deadline it would otherwise not
have. It is process-wide: any client in this process whose sockets have no timeout gets the
bound, which in the service is its one client.

One `recv` takes up to READ_AHEAD bytes. Asked for a reply's 16-byte header, it usually gets the
whole reply, and the body's read is then served from the bytes kept on the connection. Every
later read of the connection, whoever makes it, takes those bytes first, so nothing received is
lost or read out of order (after one request's reply the server sends nothing more; a streamed
reply's next part would wait there).

Given up. pymongo's own read notices within half a second that the pool cancelled its
operation (a server marked unreachable by its monitor); this one notices when its `recv`
returns, at most `MONGODB_SOCKET_TIMEOUT_MS` later, which is the bound a request had anyway.
And the bound is on each `recv`, as a Python socket timeout is, where pymongo's own read bounds
the whole reply: a server that stops answering fails the read after it all the same, one that
sends a large reply a few bytes at a time could take longer.

Off with `MONGODB_BLOCKING_READS=false`. `install()` also leaves pymongo alone, and the
service keeps pymongo's own socket timeout, if pymongo's function is not the one this was
written for (`receive_data(conn, length, deadline)` called by `receive_message`): a pymongo
upgrade cannot silently lose the bound. `tests/test_mongo_reads.py` checks both.
"""
from __future__ import annotations

import inspect
import socket
import struct
import time

from pymongo import network_layer

PYMONGO_RECEIVE_DATA = network_layer.receive_data
KNOWN_PARAMETERS = ["conn", "length", "deadline"]
# The socket type read here: CPython's own, plain TCP. Its recv() in blocking mode is one system
# call, and an SO_RCVTIMEO that runs out raises BlockingIOError.
BLOCKING_TYPES = (socket.socket,)
MARK = "_user_service_kernel_timeouts"
PENDING = "_user_service_pending"  # bytes received beyond what was asked, for the next read
READ_AHEAD = 16 * 1024

_timeout_seconds: float | None = None


def compatible() -> bool:
    """pymongo's receive_data is the one this replaces: same parameters, and receive_message
    looks it up in the module (so that replacing the module's name takes effect)."""
    current = network_layer.receive_data
    original = PYMONGO_RECEIVE_DATA
    return (
        list(inspect.signature(original).parameters) == KNOWN_PARAMETERS
        and current in (original, receive_data)
        and "receive_data" in network_layer.receive_message.__code__.co_names
    )


def install(timeout_ms: int) -> bool:
    """Read replies here with `timeout_ms` kept by the kernel. True when installed: only then
    may the caller open its connections without a socket timeout."""
    global _timeout_seconds
    if not timeout_ms or not compatible():
        return False
    _timeout_seconds = timeout_ms / 1000
    network_layer.receive_data = receive_data
    return True


def uninstall() -> None:
    global _timeout_seconds
    network_layer.receive_data = PYMONGO_RECEIVE_DATA
    _timeout_seconds = None


def receive_data(conn, length: int, deadline: float | None) -> memoryview:
    pending = conn.__dict__.get(PENDING)
    if pending is not None:
        return receive_pending(conn, pending, length, deadline)
    if deadline is not None or _timeout_seconds is None:
        return PYMONGO_RECEIVE_DATA(conn, length, deadline)
    sock = conn.conn.get_conn
    if type(sock) not in BLOCKING_TYPES or sock.gettimeout() is not None:
        return PYMONGO_RECEIVE_DATA(conn, length, time.monotonic() + _timeout_seconds)
    kernel = conn.__dict__.get(MARK)
    if kernel is None:
        try:
            set_kernel_timeouts(sock, _timeout_seconds)
            kernel = True
        except OSError:  # a platform without them: this connection keeps pymongo's reads, bounded
            kernel = False
        conn.__dict__[MARK] = kernel
    if not kernel:
        return PYMONGO_RECEIVE_DATA(conn, length, time.monotonic() + _timeout_seconds)
    return receive_blocking(conn, sock, length)


def receive_pending(conn, pending: memoryview, length: int, deadline: float | None) -> memoryview:
    """The next `length` bytes when a read before this one received them already (the rest of
    the reply whose header was asked for), then from the socket if more are needed."""
    if len(pending) > length:
        conn.__dict__[PENDING] = pending[length:]
        return pending[:length]
    conn.__dict__[PENDING] = None
    if len(pending) == length:
        return pending
    rest = receive_data(conn, length - len(pending), deadline)
    return memoryview(bytearray(pending) + rest)


def set_kernel_timeouts(sock: socket.socket, seconds: float) -> None:
    whole = int(seconds)
    value = struct.pack("@ll", whole, int((seconds - whole) * 1_000_000))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)


def receive_blocking(conn, sock: socket.socket, length: int) -> memoryview:
    """At least `length` bytes, the first `length` returned as pymongo's receive_data returns
    them. A reply usually arrives whole: asked for its 16-byte header, one `recv` of up to
    READ_AHEAD bytes takes its body too, and the body's read is then served from what was kept
    (`receive_pending`: every later read of the connection takes those bytes first). CPython
    retries a recv interrupted by a signal itself (PEP 475)."""
    view = memoryview(bytearray(max(length, READ_AHEAD)))
    read = 0
    while read < length:
        try:
            count = sock.recv_into(view[read:])
        except network_layer.BLOCKING_IO_ERRORS:  # SO_RCVTIMEO ran out
            if conn.cancel_context.cancelled:
                raise network_layer._OperationCancelled("operation cancelled") from None
            raise TimeoutError("timed out") from None
        except OSError:
            if conn.cancel_context.cancelled:
                raise network_layer._OperationCancelled("operation cancelled") from None
            raise
        if count == 0:
            raise OSError("connection closed")
        read += count
    if read > length:
        conn.__dict__[PENDING] = view[length:read]
    return view[:length]
