"""End to end over real sockets: the service behind a WSGI server on loopback sends through
Django's SMTP backend to a real SMTP server on loopback (aiosmtpd); the test reads each message
as a mail client would, follows its link, and completes verification, password reset and an
email change over HTTP."""
import email
import email.policy
import json
import socket
import threading
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

from accounts.events.outbox import outbox_drain

PASSWORD = "correct-horse-battery-staple"


class Sink:
    """Keeps every message the SMTP server accepts, parsed."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def inbox(self, address: str) -> list:
        outbox_drain()  # what the workers would do
        return [message for rcpt, message in self.messages if address in rcpt]


def free_port(candidates=range(8025, 8030)) -> int:
    """One of this project's SMTP sink ports if free, else any free port."""
    for port in [*candidates, 0]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("no free port")


@pytest.fixture
def smtp_sink(settings):
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield sink
    controller.stop()


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def base_url(settings):
    """The service on a loopback HTTP server; the mails' links point at its API paths."""
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings.EMAIL_VERIFY_URL = base + "/auth/email/verify?token={token}"
    settings.PASSWORD_RESET_URL = base + "/auth/password/reset/confirm?token={token}"
    yield base
    server.shutdown()
    server.server_close()


def http(method: str, url: str, body: dict | None = None, access: str | None = None) -> tuple[int, dict | None]:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if access:
        request.add_header("Authorization", f"Bearer {access}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


def follow(message, base_url: str) -> tuple[str, str]:
    """The link in the plain-text part, checked against the HTML part: (path, token)."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    [link] = [word for word in text.split() if word.startswith(base_url)]
    assert link in html.replace("&amp;", "&")
    parts = urlsplit(link)
    return parts.path, parse_qs(parts.query)["token"][0]


def test_verification_reset_and_email_change_through_a_real_smtp_server(smtp_sink, base_url):
    status, body = http("POST", f"{base_url}/users/register", {"username": "erin", "email": "erin@example.com", "password": PASSWORD})
    assert status == 201, body

    # Verification: the link's page posts the token to the API.
    [message] = smtp_sink.inbox("erin@example.com")
    assert message["Subject"] == "Confirm your email address" and message.is_multipart()
    path, token = follow(message, base_url)
    assert path == "/auth/email/verify"
    assert http("POST", base_url + path, {"token": token}) == (200, {"message": "Email verified."})
    assert http("POST", base_url + path, {"token": token})[0] == 400
    status, login = http("POST", f"{base_url}/login", {"email": "erin@example.com", "password": PASSWORD})
    assert status == 200
    assert http("GET", f"{base_url}/users/me", access=login["access"])[1]["user"]["email_verified"] is True

    # Reset: every older token is refused afterwards, the new password works.
    status, body = http("POST", f"{base_url}/auth/password/reset", {"email": "erin@example.com"})
    assert (status, body) == (202, {"message": "If an account uses this email, a reset link has been sent."})
    assert http("POST", f"{base_url}/auth/password/reset", {"email": "nobody@example.com"}) == (status, body)
    reset = smtp_sink.inbox("erin@example.com")[-1]
    assert reset["Subject"] == "Reset your password"
    path, token = follow(reset, base_url)
    assert http("POST", base_url + path, {"token": token, "new_password": "a brand new river stone"}) == (204, None)
    assert http("GET", f"{base_url}/users/me", access=login["access"])[0] == 401
    assert http("POST", f"{base_url}/auth/refresh", {"refresh": login["refresh"]})[0] == 401
    status, login = http("POST", f"{base_url}/login", {"email": "erin@example.com", "password": "a brand new river stone"})
    assert status == 200
    assert smtp_sink.inbox("nobody@example.com") == []

    # Email change: the current password, a notice to the old address, a link to the new one.
    user_url = f"{base_url}/users/{login['user_id']}"
    assert http("PATCH", user_url, {"email": "erin.new@example.com"}, access=login["access"])[0] == 400
    status, user = http("PATCH", user_url, {"email": "erin.new@example.com", "current_password": "a brand new river stone"}, login["access"])
    assert status == 200 and user["email"] == "erin.new@example.com" and user["email_verified"] is False
    notice = smtp_sink.inbox("erin@example.com")[-1]
    assert notice["Subject"] == "Your email address was changed" and base_url not in notice.as_string()
    path, token = follow(smtp_sink.inbox("erin.new@example.com")[-1], base_url)
    assert http("POST", base_url + path, {"token": token}) == (200, {"message": "Email verified."})
    assert http("GET", user_url, access=login["access"])[1]["email_verified"] is True
