"""Issue 12, item 5: no signing key written in the source. With DEBUG and no SECRET_KEY, a random key
is made once and kept in a git-ignored file, so a restart keeps sessions; without DEBUG the
process refuses to start without one."""
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from config.env import BASE_DIR

SHOW = "from django.conf import settings; print(settings.SECRET_KEY); print(settings.SIMPLE_JWT['SIGNING_KEY'])"


def settings_of(env_extra: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "JWT_SIGNING_KEY", "DEBUG")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.base", PYTHONPATH=str(BASE_DIR), **env_extra)
    return subprocess.run([sys.executable, "-c", "import django; django.setup(); " + SHOW], env=env, cwd=BASE_DIR, capture_output=True, text=True)


def test_debug_without_a_key_makes_a_random_one_and_keeps_it(tmp_path):
    key_file = tmp_path / "secret_key"
    first = settings_of({"DEBUG": "true", "SECRET_KEY_FILE": str(key_file)})
    assert first.returncode == 0, first.stderr
    key, signing = first.stdout.split()[-2:]
    assert key == signing and len(key) >= 50
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = settings_of({"DEBUG": "true", "SECRET_KEY_FILE": str(key_file)})
    assert again.stdout.split()[-2:] == [key, key]  # a restart keeps tokens and sessions valid
    other = settings_of({"DEBUG": "true", "SECRET_KEY_FILE": str(tmp_path / "elsewhere")})
    assert other.stdout.split()[-1] != key  # another checkout gets another key


def test_a_set_key_wins_and_no_file_is_written(tmp_path):
    key_file = tmp_path / "secret_key"
    run = settings_of({"DEBUG": "true", "SECRET_KEY": "k" * 60, "SECRET_KEY_FILE": str(key_file)})
    assert run.stdout.split()[-2:] == ["k" * 60, "k" * 60]
    assert not key_file.exists()


def test_without_debug_a_key_is_still_required(tmp_path):
    run = settings_of({"DEBUG": "false", "ALLOWED_HOSTS": "x", "SECRET_KEY_FILE": str(tmp_path / "k")})
    assert run.returncode != 0 and "SECRET_KEY" in run.stderr


def test_the_default_key_file_is_git_ignored():
    # Read, not asked of git: the suite also runs from copies of the tree that are no repository.
    assert ".secret_key" in (Path(BASE_DIR) / ".gitignore").read_text().splitlines()


def test_no_constant_key_is_written_in_the_settings():
    source = (Path(BASE_DIR) / "config" / "settings" / "base.py").read_text()
    assert "insecure" not in source
    assert not re.search(r'SECRET_KEY", default="[^"]', source)
