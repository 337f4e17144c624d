"""Sending mail (accounts/emails/mail.py): off the request, failures logged and hidden, templates a
deployer overrides, the backend chosen by EMAIL_URL."""
import logging
import socket
import subprocess
import sys
import threading

from django.conf import settings as django_settings
from django.core.mail.backends.base import BaseEmailBackend

from accounts.emails import mail
from tests.conftest import PASSWORD
from tests.mailbox import delivered, last_token


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses everything."""

    def send_messages(self, messages):
        raise ConnectionRefusedError("no mail server here")


def register(api, email="dave@example.com"):
    return api.post("/users/register", {"username": "dave", "email": email, "password": PASSWORD}, format="json")


def test_a_failing_mail_server_fails_no_request_and_is_logged_without_the_token(api, settings, caplog):
    settings.EMAIL_BACKEND = "accounts.emails.tests.test_mail.RefusingBackend"
    caplog.set_level(logging.INFO, logger="accounts.emails.mail")
    r = register(api)
    assert r.status_code == 201 and set(r.json()) == {"message", "user_id"}
    assert api.post("/auth/password/reset", {"email": "dave@example.com"}, format="json").status_code == 202
    assert mail.queue_wait(timeout=10)
    failures = [rec for rec in caplog.records if rec.name == "accounts.emails.mail" and rec.levelno == logging.WARNING]
    assert len(failures) == 2
    assert all("ConnectionRefusedError" in rec.getMessage() and r.json()["user_id"] in rec.getMessage() for rec in failures)
    assert "http" not in caplog.text  # no link, so no token


def test_a_silent_mail_server_holds_no_request(api, settings, caplog):
    """The server accepts the connection and never answers: the request is answered at once,
    the sending thread gives up after EMAIL_TIMEOUT and logs it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", listener.getsockname()[1], 1
    caplog.set_level(logging.WARNING, logger="accounts.emails.mail")
    try:
        r = register(api)
        assert r.status_code == 201
        assert not mail.queue_wait(timeout=0)  # still waiting for the server when we answered
        assert mail.queue_wait(timeout=15)
    finally:
        listener.close()
    assert "verify_email" in caplog.text and "not sent" in caplog.text


def test_a_full_queue_drops_the_mail_and_logs_it(api, settings, caplog):
    settings.EMAIL_QUEUE_LIMIT = 0
    caplog.set_level(logging.ERROR, logger="accounts.emails.mail")
    assert register(api).status_code == 201
    assert delivered() == []
    assert "mail queue full" in caplog.text


def test_a_failing_job_is_logged_and_the_thread_lives_on(caplog):
    caplog.set_level(logging.ERROR, logger="accounts.emails.mail")

    def broken():
        raise RuntimeError("secret detail")

    assert mail.background("broken job", broken)
    assert mail.queue_wait(timeout=10)
    assert "broken job failed: RuntimeError" in caplog.text and "secret detail" not in caplog.text
    done = threading.Event()
    mail.background("next job", done.set)
    assert mail.queue_wait(timeout=10) and done.is_set()


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

