"""config/mongo_reads.py: replies read by blocking sockets, the socket timeout kept by the kernel.

The whole suite's database traffic goes through it when TEST_MONGODB_URI is set (and the
service's in tests/test_faults_wire.py, whose frozen database must still answer 503 within the
bound). Here: the read itself, on a real socket pair, and what is handed back to pymongo."""
import socket
import threading
import time

import pytest
from django.test import override_settings
from pymongo import network_layer
from pymongo.errors import _OperationCancelled

from config import mongo, mongo_reads
from tests.roundtrips import suite_database_back


class Cancel:
    cancelled = False


class Conn:
    """What receive_data reads from pymongo's Connection: `.conn.get_conn`, `.cancel_context`."""

    def __init__(self, sock):
        self.conn = network_layer.NetworkingInterface(sock)
        self.cancel_context = Cancel()
        self.is_sdam = False

    def set_conn_timeout(self, timeout):
        self.conn.settimeout(timeout)


@pytest.fixture
def installed():
    before = network_layer.receive_data
    assert mongo_reads.install(300)
    yield
    network_layer.receive_data = before
    if before is mongo_reads.PYMONGO_RECEIVE_DATA:
        mongo_reads.uninstall()


@pytest.fixture
def pair():
    ours, peer = socket.socketpair()
    yield ours, peer
    ours.close()
    peer.close()


def test_the_replaced_function_is_the_one_it_was_written_for():
    assert mongo_reads.compatible()
    assert list(__import__("inspect").signature(network_layer.receive_message).parameters)[:2] == ["conn", "request_id"]


def test_install_replaces_pymongos_read_and_uninstall_gives_it_back(installed):
    assert network_layer.receive_data is mongo_reads.receive_data
    mongo_reads.uninstall()
    assert network_layer.receive_data is mongo_reads.PYMONGO_RECEIVE_DATA
    assert not mongo_reads.install(0), "no timeout to keep: pymongo's own reads"
    assert network_layer.receive_data is mongo_reads.PYMONGO_RECEIVE_DATA


def test_an_incompatible_pymongo_is_left_alone(monkeypatch):
    monkeypatch.setattr(mongo_reads, "PYMONGO_RECEIVE_DATA", lambda conn, size, deadline, extra=None: None)
    assert not mongo_reads.compatible()
    assert not mongo_reads.install(5000)


def test_a_reply_sent_in_pieces_is_read_whole_and_the_kernel_keeps_the_timeout(installed, pair):
    ours, peer = pair
    conn = Conn(ours)

    def send():
        for piece in (b"0123", b"456789", b"abcdef"):
            time.sleep(0.02)
            peer.sendall(piece)

    threading.Thread(target=send).start()
    assert bytes(network_layer.receive_data(conn, 16, None)) == b"0123456789abcdef"
    assert ours.gettimeout() is None, "a blocking socket: one recv, no poll before it"
    received = ours.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 16)
    sent = ours.getsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, 16)
    assert received == sent
    assert int.from_bytes(received[:8], "little") == 0 and int.from_bytes(received[8:], "little") == 300_000


def test_a_reply_arrived_whole_is_read_in_one_recv_and_its_body_served_from_it(installed, pair):
    ours, peer = pair
    conn = Conn(ours)
    header, body, next_reply = b"H" * 16, b"B" * 40, b"N" * 10
    peer.sendall(header + body + next_reply)
    time.sleep(0.05)
    assert bytes(network_layer.receive_data(conn, 16, None)) == header
    assert len(conn.__dict__[mongo_reads.PENDING]) == 50, "the body came with the header's recv"
    assert bytes(network_layer.receive_data(conn, 40, None)) == body
    # What came after the reply is the next read's, even one made with a deadline, then the socket.
    peer.sendall(b"M" * 6)
    assert bytes(network_layer.receive_data(conn, 16, time.monotonic() + 5)) == next_reply + b"M" * 6
    assert conn.__dict__.get(mongo_reads.PENDING) is None


def test_a_reply_that_never_comes_is_a_timeout_as_pymongos_own(installed, pair):
    conn = Conn(pair[0])
    with pytest.raises(TimeoutError, match="timed out"):
        network_layer.receive_data(conn, 16, None)


def test_a_cancelled_operation_raises_pymongos_cancellation(installed, pair):
    conn = Conn(pair[0])
    conn.cancel_context.cancelled = True
    with pytest.raises(_OperationCancelled):
        network_layer.receive_data(conn, 16, None)


def test_a_closed_connection_is_an_error_not_a_short_reply(installed, pair):
    ours, peer = pair
    peer.sendall(b"0123")
    peer.close()
    with pytest.raises(OSError, match="connection closed"):
        network_layer.receive_data(Conn(ours), 16, None)


def test_reads_with_a_deadline_or_a_socket_timeout_are_pymongos(installed, pair, monkeypatch):
    seen = []
    monkeypatch.setattr(mongo_reads, "PYMONGO_RECEIVE_DATA", lambda conn, length, deadline: seen.append(deadline) or b"x")
    ours, _ = pair
    network_layer.receive_data(Conn(ours), 1, 123.0)  # pymongo.timeout(), or a socket timeout
    ours.settimeout(2.0)  # a monitor's connection: connectTimeoutMS
    network_layer.receive_data(Conn(ours), 1, None)
    assert seen[0] == 123.0
    assert seen[1] is not None and seen[1] > time.monotonic(), "a socket of its own timeout still gets a deadline"


def test_connect_opens_blocking_sockets_only_when_the_kernel_keeps_the_bound(settings):
    """The client's socketTimeoutMS: None when the reads are installed, the setting otherwise
    (switched off, or a URI that sets its own)."""

    def client_timeout():
        from mongoengine.connection import _connection_settings

        return _connection_settings["default"].get("socketTimeoutMS", "unset")

    settings.MONGODB_SOCKET_TIMEOUT_MS = 4000
    try:
        with override_settings(MONGODB_CLIENT_CLASS="", MONGODB_URI="mongodb://127.0.0.1:1/app"):
            mongo.connect()
            assert client_timeout() is None
            assert network_layer.receive_data is mongo_reads.receive_data
            with override_settings(MONGODB_BLOCKING_READS=False):
                mongo.connect()
                assert client_timeout() == 4000
                assert network_layer.receive_data is mongo_reads.PYMONGO_RECEIVE_DATA
            with override_settings(MONGODB_URI="mongodb://127.0.0.1:1/app?tls=true&tlsAllowInvalidCertificates=true"):
                mongo.connect()
                assert client_timeout() == 4000, "TLS keeps pymongo's reads and socket timeout"
                assert network_layer.receive_data is mongo_reads.PYMONGO_RECEIVE_DATA
            with override_settings(MONGODB_URI="mongodb://127.0.0.1:1/app?socketTimeoutMS=100"):
                mongo.connect()
                assert client_timeout() == "unset", "the URI's own value, read by pymongo"
                assert network_layer.receive_data is mongo_reads.PYMONGO_RECEIVE_DATA
    finally:
        suite_database_back(settings)


@pytest.mark.parametrize(
    ("uri", "tls"),
    [
        ("mongodb://db:27017/app", False),
        ("mongodb://db:27017/app?tls=true", True),
        ("mongodb://db:27017/app?ssl=true", True),
        ("mongodb://db:27017/app?TLS=True", True),
        ("mongodb+srv://cluster.example.net/app", True),
        ("mongodb+srv://cluster.example.net/app?tls=false", False),
        ("", False),
    ],
)
def test_which_uris_use_tls(uri, tls):
    assert mongo.uses_tls(uri) is tls


def test_a_socket_of_another_kind_gets_pymongos_read_with_the_bound(installed, monkeypatch):
    class OtherSocket(socket.socket):
        pass

    seen = []
    monkeypatch.setattr(mongo_reads, "PYMONGO_RECEIVE_DATA", lambda conn, length, deadline: seen.append(deadline) or b"x")
    with OtherSocket() as other:
        network_layer.receive_data(Conn(other), 1, None)
    assert seen[0] is not None and time.monotonic() < seen[0] <= time.monotonic() + 0.3


def test_a_socket_that_refuses_kernel_timeouts_keeps_pymongos_read_with_the_bound(installed, pair, monkeypatch):
    def refused(sock, seconds):
        raise OSError("not on this platform")

    seen = []
    monkeypatch.setattr(mongo_reads, "set_kernel_timeouts", refused)
    monkeypatch.setattr(mongo_reads, "PYMONGO_RECEIVE_DATA", lambda conn, length, deadline: seen.append(deadline) or b"x")
    conn = Conn(pair[0])
    network_layer.receive_data(conn, 1, None)
    network_layer.receive_data(conn, 1, None)
    assert len(seen) == 2 and all(deadline is not None for deadline in seen)
    assert conn.__dict__[mongo_reads.MARK] is False, "tried once per connection"
