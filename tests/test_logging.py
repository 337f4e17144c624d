"""The request log (config/logging.py): a request id on every response and every log line, one
line per request, JSON by setting, and never a password, token or Authorization header."""
import json
import logging

import pytest
from django.conf import settings
from pythonjsonlogger.json import JsonFormatter
from rest_framework.test import APIClient

from config.logging import DropRequestObjectFilter
from tests.conftest import PASSWORD, bearer

PLAIN = logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"])
JSON = JsonFormatter(settings.LOGGING["formatters"]["json"]["format"])


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def logs(caplog):
    """Every record at INFO and above that our console handler is given: it sits on the root
    logger and on Django's loggers (which do not propagate to the root)."""
    caplog.set_level(logging.INFO)
    collect = Collect()
    loggers = [logging.getLogger(name) for name in ("", "django", "django.request")]
    for logger in loggers:
        logger.addHandler(collect)
    yield collect
    for logger in loggers:
        logger.removeHandler(collect)


def everything_written(records) -> str:
    """What any handler could write: both configured formats, plus every attribute."""
    lines = []
    for record in records:
        lines += [PLAIN.format(record), JSON.format(record), repr(vars(record))]
    return "\n".join(lines)


def access_lines(records):
    return [r for r in records if r.name == "access"]


def test_a_request_id_is_made_and_returned(api, logs):
    r = api.get("/health")
    request_id = r["X-Request-ID"]
    assert len(request_id) == 32 and int(request_id, 16) >= 0
    (line,) = access_lines(logs.records)
    assert line.request_id == request_id


def test_a_sane_request_id_is_echoed(api):
    r = api.get("/health", HTTP_X_REQUEST_ID="edge-proxy.42_abc")
    assert r["X-Request-ID"] == "edge-proxy.42_abc"


@pytest.mark.parametrize("bad", ["has space", "x" * 65, "new\nline", "quote\"", "<script>", "é"])
def test_an_unsafe_request_id_is_replaced(api, bad):
    r = api.get("/health", HTTP_X_REQUEST_ID=bad)
    assert r["X-Request-ID"] != bad
    assert len(r["X-Request-ID"]) == 32


def test_one_line_per_request_with_method_path_status_and_user(client_for, user, logs):
    r = client_for(user).get(f"/users/{user.id}?secret_in_query=1", HTTP_X_REQUEST_ID="req-1")
    assert r.status_code == 200
    (line,) = access_lines(logs.records)
    assert line.levelno == logging.INFO
    assert (line.method, line.path, line.status, line.user_id) == ("GET", f"/users/{user.id}", 200, str(user.id))
    assert line.request_id == "req-1"
    assert "secret_in_query" not in everything_written(logs.records)


def test_the_json_format_is_one_object_per_line_with_the_request_fields(api, logs):
    api.get("/no/such/path", HTTP_X_REQUEST_ID="json-1")
    (line,) = access_lines(logs.records)
    out = JSON.format(line)
    assert "\n" not in out
    body = json.loads(out)
    assert body["request_id"] == "json-1"
    assert (body["method"], body["path"], body["status"], body["user_id"]) == ("GET", "/no/such/path", 404, None)
    assert body["levelname"] == "INFO" and body["name"] == "access"


def test_login_logs_no_password_no_token_and_no_authorization_header(api, user, other, logs):
    foreign = bearer(other)  # an Authorization header sent along with the login
    r = api.post(
        "/login",
        {"email": user.email, "password": PASSWORD},
        format="json",
        HTTP_AUTHORIZATION=foreign,
        HTTP_X_REQUEST_ID="login-1",
    )
    assert r.status_code == 200, r.content
    written = everything_written(logs.records)
    for secret in (PASSWORD, r.json()["access"], r.json()["refresh"], foreign.split()[1]):
        assert secret not in written
    assert len(access_lines(logs.records)) == 1
    # The audit event is logged, carrying the request's id.
    (audit,) = [rec for rec in logs.records if rec.getMessage().startswith("audit login ")]
    assert audit.request_id == "login-1"
    assert str(user.id) in audit.getMessage()


def test_a_failed_login_logs_neither_password_nor_email(api, user, logs):
    r = api.post("/login", {"email": user.email, "password": "Wrong-Passw0rd!"}, format="json", HTTP_X_REQUEST_ID="fail-1")
    assert r.status_code == 401
    written = everything_written(logs.records)
    assert "Wrong-Passw0rd!" not in written
    assert user.email not in written
    (audit,) = [rec for rec in logs.records if rec.getMessage().startswith("audit login_failed")]
    assert audit.request_id == "fail-1"


def test_an_authenticated_request_logs_no_token(client_for, user, logs):
    client = client_for(user)
    token = client._credentials["HTTP_AUTHORIZATION"].split()[1]
    assert client.get("/users/me").status_code == 200
    assert token not in everything_written(logs.records)


def test_a_server_error_logs_the_path_but_not_the_body(user, logs, monkeypatch):
    from accounts.users import login

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(login, "user_login", broken)
    client = APIClient(raise_request_exception=False)
    r = client.post(
        "/login?next=/somewhere-secret", {"email": user.email, "password": PASSWORD}, format="json", HTTP_X_REQUEST_ID="err-1"
    )
    assert r.status_code == 500
    errors = [rec for rec in logs.records if rec.name == "django.request"]
    assert errors and errors[0].request_id == "err-1"
    assert "/login" in errors[0].getMessage()
    # What our handler's filter makes of the request object Django attaches: method and path.
    for record in errors:
        DropRequestObjectFilter().filter(record)
        assert record.request == "POST /login"
    written = everything_written(logs.records)
    assert PASSWORD not in written and "somewhere-secret" not in written
    assert access_lines(logs.records)[0].status == 500


def test_django_loggers_write_through_our_handler_only():
    def ours(name):  # leave out the handlers pytest itself adds while it runs
        return [h.get_name() for h in logging.getLogger(name).handlers if not type(h).__module__.startswith("_pytest")]

    # Django's defaults would add mail_admins (request data by email) with DEBUG off.
    assert ours("django") == ["console"]
    assert ours("django.request") == ["console"]
    assert logging.getLogger("django.request").level == logging.ERROR
    assert ours("django.server") == ["null"]  # writes nowhere (see the next test)


@pytest.mark.parametrize("status, level", [(200, logging.INFO), (404, logging.WARNING), (500, logging.ERROR)])
def test_runserver_adds_no_second_line(capsys, status, level):
    """runserver logs each request on `django.server` (4xx as warnings, 5xx as errors), as
    django.core.servers.basehttp.WSGIRequestHandler.log_message does; our access line already
    holds it, so nothing of it may reach the console, not even through Python's last-resort
    handler (which writes the warnings of a logger that has no handler to stderr)."""
    server = logging.getLogger("django.server")
    pytest_handlers = [h for h in server.handlers if type(h).__module__.startswith("_pytest")]
    for handler in pytest_handlers:  # as outside pytest: only the configured handlers
        server.removeHandler(handler)
    try:
        server.log(level, '"%s" %s %s', "GET /x HTTP/1.1", str(status), "24", extra={"server_time": "now", "status_code": status})
    finally:
        for handler in pytest_handlers:
            server.addHandler(handler)
    captured = capsys.readouterr()
    assert "GET /x" not in captured.err + captured.out


def test_pymongo_loggers_stay_at_info_whatever_log_level_says():
    """pymongo logs every command and reply at DEBUG (hashes and tokens included)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import django, logging; django.setup(); "
        "print(logging.getLogger().getEffectiveLevel(), "
        "*(logging.getLogger(n).getEffectiveLevel() for n in ('pymongo', 'pymongo.command', 'pymongo.connection')))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "TEST_MONGODB_URI")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.base", DEBUG="true", LOG_LEVEL="DEBUG")
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    root, *driver = map(int, done.stdout.split())
    assert root == 10 and driver == [20, 20, 20]


# --- The console handler writes from a thread of its own (config/logging.py) -----------------
def background_logger(name: str, stream, formatter: logging.Formatter):
    """A logger of its own (not propagating) writing to `stream` through a BackgroundStreamHandler;
    returns both. The caller removes the handler when done."""
    from config.logging import BackgroundStreamHandler

    handler = BackgroundStreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger(name)
    logger.propagate = False
    logger.addHandler(handler)
    return logger, handler


def test_the_background_handler_writes_every_line_in_order_and_flushes_at_exit():
    import io
    import threading

    from config.logging import PlainFormatter

    stream = io.StringIO()
    logger, handler = background_logger("tests.background", stream, PlainFormatter("%(name)s %(message)s"))
    try:
        def burst(k):
            for i in range(200):
                logger.warning("thread %s line %s", k, i)

        threads = [threading.Thread(target=burst, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        handler.flush()  # what logging.shutdown does at exit: nothing left in the queue
        lines = stream.getvalue().splitlines()
        assert len(lines) == 800
        for k in range(4):  # each thread's lines, whole and in its order
            mine = [line for line in lines if line.startswith(f"tests.background thread {k} ")]
            assert mine == [f"tests.background thread {k} line {i}" for i in range(200)]
        assert [t.name for t in threading.enumerate()].count("log-writer") >= 1
    finally:
        logger.removeHandler(handler)


def test_a_line_written_in_the_background_is_still_escaped_and_stamped():
    """The filters run when the record is logged, in the caller's thread: the request id is the
    caller's, and what a client wrote cannot forge a line, however late the writer writes."""
    import io

    from config.logging import EscapeControlFilter, RequestIdFilter, request_id_var

    stream = io.StringIO()
    plain = logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"])
    logger, handler = background_logger("tests.background.escape", stream, plain)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(EscapeControlFilter())
    token = request_id_var.set("req-bg-1")
    try:
        logger.warning("GET %s", "/health\nINFO forged line")
    finally:
        request_id_var.reset(token)
        logger.removeHandler(handler)
    handler.flush()
    (line,) = stream.getvalue().splitlines()
    assert "[req-bg-1]" in line and line.endswith("GET /health\\nINFO forged line")


def test_the_background_writer_gathers_the_lines_queued_while_it_waits():
    """Woken by a line, the writer waits GATHER_SECONDS before it takes the queue: a burst is
    written in a few writes, not one a line (each wake of the writer takes the GIL from the
    request threads)."""
    import io
    import threading
    import time

    from config.logging import PlainFormatter

    class Counting(io.StringIO):
        writes = 0

        def write(self, text):
            Counting.writes += 1
            return super().write(text)

    stream = Counting()
    logger, handler = background_logger("tests.background.gather", stream, PlainFormatter("%(message)s"))
    try:
        for i in range(60):  # a line a millisecond or so, as requests log under load
            logger.warning("line %s", i)
            time.sleep(0.001)
        handler.flush()
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue().splitlines() == [f"line {i}" for i in range(60)]
    assert Counting.writes < 20, Counting.writes  # one a line (60) without the wait
    assert "log-writer" in [t.name for t in threading.enumerate()]


def test_the_service_logs_through_the_background_handler_by_default():
    assert settings.LOGGING["handlers"]["console"]["class"] == "config.logging.BackgroundStreamHandler"
