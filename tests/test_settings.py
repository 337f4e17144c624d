"""Settings read from the environment by a new process (config/settings/base.py)."""
import subprocess
import sys

import pytest
from django.conf import settings as django_settings


def setting_in_a_fresh_process(name: str, env: dict) -> subprocess.CompletedProcess:
    code = f"from config.settings import base as s; print(getattr(s, {name!r}, None))"
    base = {"PATH": "/usr/bin:/bin", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "h", "JWT_ALGORITHM": "HS256"}
    return subprocess.run([sys.executable, "-c", code], env={**base, **env}, cwd=django_settings.BASE_DIR, capture_output=True, text=True)


@pytest.mark.parametrize(
    ("url", "folder"),
    [
        ("filemail:///var/mail/user-service", "/var/mail/user-service"),  # RFC 8089: three slashes, absolute
        ("filemail:////tmp/user-service-mail", "/tmp/user-service-mail"),  # four, as older READMEs said
    ],
)
def test_a_filemail_url_names_an_absolute_folder(url, folder):
    result = setting_in_a_fresh_process("EMAIL_FILE_PATH", {"EMAIL_URL": url})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == folder
    backend = setting_in_a_fresh_process("EMAIL_BACKEND", {"EMAIL_URL": url})
    assert backend.stdout.strip() == "django.core.mail.backends.filebased.EmailBackend"


@pytest.mark.parametrize("url", ["filemail://", "filemail:///", "filemail://relative/folder"])
def test_a_filemail_url_without_an_absolute_folder_refuses_to_start(url):
    result = setting_in_a_fresh_process("EMAIL_FILE_PATH", {"EMAIL_URL": url})
    assert result.returncode != 0
    assert "EMAIL_URL=filemail:///absolute/folder names the folder" in result.stderr


@pytest.mark.parametrize("value", ["0", "-5"])
def test_a_deferral_of_less_than_a_second_refuses_to_start(value):
    """A worker would claim a job whose cause is not visible yet again at once, in a busy loop."""
    result = setting_in_a_fresh_process("OUTBOX_DEFER_SECONDS", {"OUTBOX_DEFER_SECONDS": value})
    assert result.returncode != 0
    assert "OUTBOX_DEFER_SECONDS must be 1 or more" in result.stderr
    assert setting_in_a_fresh_process("OUTBOX_DEFER_SECONDS", {"OUTBOX_DEFER_SECONDS": "1"}).stdout.strip() == "1"
