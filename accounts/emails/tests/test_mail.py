"""Sending mail (accounts/emails/mail.py, on the outbox of accounts/events/): off the request and out
of process memory, failures retried, logged and hidden, templates a deployer overrides, the backend
chosen by EMAIL_URL."""
import logging
import socket
import subprocess
import sys
import time

from bson import ObjectId

from django.conf import settings as django_settings
from django.core.mail.backends.base import BaseEmailBackend

from accounts.events.documents import OutboxJob
from accounts.events.outbox import outbox_drain, outbox_failed, outbox_retry
from tests.conftest import PASSWORD
from tests.mailbox import delivered, last_token


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses everything."""

    def send_messages(self, messages):
        raise ConnectionRefusedError("no mail server here")


def register(api, email="dave@example.com"):
    return api.post("/users/register", {"username": "dave", "email": email, "password": PASSWORD}, format="json")


def test_a_failing_mail_server_fails_no_request_is_retried_and_logged_without_the_token(api, settings, caplog):
    settings.EMAIL_BACKEND = "accounts.emails.tests.test_mail.RefusingBackend"
    settings.OUTBOX_RETRY_DELAYS = [0, 0]
    caplog.set_level(logging.INFO, logger="accounts.events.outbox")
    r = register(api)
    assert r.status_code == 201 and set(r.json()) == {"message", "user_id"}
    assert api.post("/auth/password/reset", {"email": "dave@example.com"}, format="json").status_code == 202
    outbox_drain()
    failures = [rec for rec in caplog.records if rec.name == "accounts.events.outbox" and rec.levelno == logging.WARNING]
    assert len(failures) == 6  # two mails, three attempts each
    assert all("not sent: ConnectionRefusedError" in rec.getMessage() for rec in failures)
    assert "http" not in caplog.text  # no link, so no token
    dead = outbox_failed()
    assert sorted(row["what"] for row in dead) == ["mail password_reset", "mail verify_email"]
    # The server is back: the dead letters are sent again and arrive.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox_retry(ids=[ObjectId(row["id"]) for row in dead]) == 2
    assert len(delivered("dave@example.com")) == 2


def test_a_silent_mail_server_holds_no_request(api, settings, caplog):
    """The server accepts the connection and never answers: the request is answered at once (it
    only wrote a job); the worker gives up after EMAIL_TIMEOUT, logs it and retries later."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", listener.getsockname()[1], 1
    caplog.set_level(logging.WARNING, logger="accounts.events.outbox")
    try:
        started = time.monotonic()
        r = register(api)
        assert r.status_code == 201 and time.monotonic() - started < 1  # no mail server in the request
        assert OutboxJob.objects(kind="mail", status="pending").count() == 1
        outbox_drain()
    finally:
        listener.close()
    assert "not sent" in caplog.text
    [job] = OutboxJob.objects(kind="mail")
    assert job.status == "pending" and job.attempts == 1  # to be tried again, after the backoff


def test_no_mail_waits_in_process_memory(api):
    """The mail is a document from the moment the request is answered: another process (a
    worker anywhere) can send it, and a killed service loses nothing."""
    assert register(api).status_code == 201
    [job] = OutboxJob._get_collection().find({"kind": "mail"})
    assert job["payload"] == {"template": "verify_email"}  # no token, no link: the worker makes them
    assert delivered("dave@example.com")
    assert OutboxJob.objects.get(id=job["_id"]).status == "delivered"


def test_a_deployer_overrides_the_templates(api, settings, tmp_path):
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "verify_email_subject.txt").write_text("Welcome to Acme, {{ email }}\n")
    (tmp_path / "email" / "verify_email.txt").write_text("Acme: {{ link }}\n")
    # As EMAIL_TEMPLATES_DIR does it: the deployer's folder first, the shipped ones after it.
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path), *settings.TEMPLATES[0]["DIRS"]]}]
    assert register(api).status_code == 201
    [message] = delivered("dave@example.com")
    # No username in any mail's context (issue 21): text anyone chooses, to an unproven address.
    assert message.subject == "Welcome to Acme, dave@example.com"
    assert message.body.startswith("Acme: http") and last_token("dave@example.com")
    assert "Confirm my email address" in message.alternatives[0][0]  # the shipped HTML stays


def test_links_follow_the_configured_front_end_template(api, settings):
    settings.EMAIL_VERIFY_URL = "https://app.example.com/#/verify/{token}?from=mail"
    assert register(api).status_code == 201
    [message] = delivered()
    token = message.body.split("https://app.example.com/#/verify/")[1].split("?from=mail")[0]
    assert api.post("/auth/email/verify", {"token": token}, format="json").status_code == 200


def settings_in_a_fresh_process(env: dict) -> str:
    """The mail settings a new process reads from this environment (and no .env file)."""
    code = "from config.settings import base as s; g = lambda name: getattr(s, name, None); print(g('EMAIL_BACKEND'), g('EMAIL_HOST'), g('EMAIL_PORT'), bool(g('EMAIL_USE_TLS')), g('DEFAULT_FROM_EMAIL'))"
    base = {"PATH": "/usr/bin:/bin", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "h", "JWT_ALGORITHM": "HS256"}
    result = subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, cwd=django_settings.BASE_DIR, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_email_url_chooses_the_backend():
    assert settings_in_a_fresh_process({"DEBUG": "true"}).startswith("django.core.mail.backends.console.EmailBackend")
    assert settings_in_a_fresh_process({"DEBUG": "false"}).startswith("django.core.mail.backends.smtp.EmailBackend localhost 25")
    out = settings_in_a_fresh_process({"EMAIL_URL": "smtp+tls://user:pass@mail.example.com:587", "DEFAULT_FROM_EMAIL": "Acme <no-reply@acme.example>"})
    assert out == "django.core.mail.backends.smtp.EmailBackend mail.example.com 587 True Acme <no-reply@acme.example>"


def test_an_unknown_verification_mode_refuses_to_start():
    try:
        settings_in_a_fresh_process({"EMAIL_VERIFICATION": "sometimes"})
    except subprocess.CalledProcessError as exc:
        assert "EMAIL_VERIFICATION must be none, optional or mandatory" in exc.stderr
    else:
        raise AssertionError("started with EMAIL_VERIFICATION=sometimes")

