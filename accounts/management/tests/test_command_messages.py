"""The management commands as a newcomer meets them: every mistake is one clear line and a
non-zero exit (never a traceback), counts are of what exists, output reads as text."""
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bson import ObjectId
from django.core.management import CommandError, call_command
from pymongo.errors import ServerSelectionTimeoutError
from rest_framework.exceptions import ValidationError

from accounts.users.documents import User
from accounts.management.commands import check_integrity
from accounts.management.errors import error_text

ROOT = Path(__file__).resolve().parents[3]  # the repository (accounts/management/tests/ is three below it)


def run(*args, stderr=None):
    out, err = io.StringIO(), stderr or io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("command", [["check_integrity"], ["createadmin", "--username", "a", "--email", "a@example.com"]])
def test_without_secret_key_a_command_says_so_in_one_line(command):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp", "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    r = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert "SECRET_KEY" in line and "DEBUG=true" in line


def test_createadmin_without_a_terminal_says_how_to_go_on(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError) as exc:
        run("createadmin", "--username", "boss", "--email", "boss@example.com")
    assert str(exc.value) == "No terminal to ask for the password on: set ADMIN_PASSWORD and add --no-input."
    assert User.objects.count() == 0


def test_createadmin_prints_validation_errors_as_text(settings):
    settings.ADMIN_PASSWORD = "12345678"
    with pytest.raises(CommandError) as exc:
        run("createadmin", "--username", "boss", "--email", "boss@example.com", "--no-input")
    message = str(exc.value)
    assert "ErrorDetail" not in message and "{" not in message and "[" not in message
    assert message.startswith("Could not create the admin: password: This password is too common.")


def test_error_text_reads_as_sentences():
    detail = ValidationError({"password": ["Too short.", "Too common."], "non_field_errors": ["Bad."], "email": ["Taken."]}).detail
    assert error_text(detail) == "password: Too short. Too common.; Bad.; email: Taken."
    assert error_text(ValidationError("Just this.").detail) == "Just this."


def test_delete_users_counts_what_exists_before_asking(make_user):
    path_ids = [str(ObjectId()), str(ObjectId())]
    out, _ = run("delete_users", "--ids", *path_ids)  # no --yes and no terminal: nothing to ask about
    assert out.strip() == "None of the 2 listed ids is a user; nothing to do."
    user = make_user()
    with pytest.raises(CommandError) as exc:
        run("delete_users", "--ids", str(user.id), path_ids[0])
    assert str(exc.value).startswith("1 user would be deleted (1 of the 2 listed ids matches no user).")
    out, _ = run("delete_users", "--ids", str(user.id), path_ids[0], "--yes")
    assert out.splitlines()[0] == "1 user to delete (1 of the 2 listed ids matches no user)."
    assert "Deleted 1 user and all their data" in out and "users" in out.splitlines()[-1]
    assert User.objects.count() == 0


def test_delete_users_asks_about_the_users_that_exist(make_user, monkeypatch):
    user = make_user()
    asked = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "no")
    with pytest.raises(CommandError, match="Nothing deleted"):
        run("delete_users", "--ids", str(user.id), str(ObjectId()))
    assert asked == ["Delete 1 user and all their data (1 of the 2 listed ids matches no user)? Type 'yes' to confirm: "]


def test_ctrl_c_at_the_prompt_is_a_clean_stop(make_user, monkeypatch):
    user = make_user()
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)

    def interrupt(prompt):
        raise KeyboardInterrupt

    monkeypatch.setattr("builtins.input", interrupt)
    with pytest.raises(CommandError) as exc:
        run("delete_users", "--ids", str(user.id))
    assert exc.value.returncode == 130 and "nothing was changed" in str(exc.value)
    assert User.objects.count() == 1


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_progress_bar_is_not_coloured_as_an_error(make_user):
    users = [make_user(f"bar {n}", f"bar{n}@example.com") for n in range(3)]
    terminal = Terminal()
    run("delete_users", "--ids", *[str(u.id) for u in users], "--yes", stderr=terminal)
    written = terminal.getvalue()
    assert "deleting" in written and "3/3" in written  # the bar was drawn
    assert "\x1b[31" not in written  # Django's ERROR style (red) is not applied to it


def test_an_unreachable_database_is_one_line(monkeypatch):
    def unreachable(**kwargs):
        raise ServerSelectionTimeoutError("localhost:27017: [Errno 111] Connection refused, Timeout: 30s, Topology Description: ...")

    monkeypatch.setattr(check_integrity, "orphans_find", unreachable)
    with pytest.raises(CommandError) as exc:
        run("check_integrity")
    assert "\n" not in str(exc.value) and "cannot be reached" in str(exc.value) and "Topology" not in str(exc.value)


def test_import_users_messages_say_each_thing_once(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(CommandError) as exc:
        run("import_users", str(missing))
    assert str(exc.value) == f"Cannot read {missing}: No such file or directory."
    bad = tmp_path / "users.json"
    bad.write_text('{"username": "a b", "email": "a@example.com", "password": "plain"}\n{not json\n')
    with pytest.raises(CommandError) as exc:
        run("import_users", str(bad))
    lines = str(exc.value).splitlines()
    assert lines[0] == "Nothing imported. Fix these and run again:"
    assert lines[1].startswith("line 1: password: ") and "password_hash" not in lines[1]
    assert lines[2] == "line 2: not valid JSON (expecting property name enclosed in double quotes at column 2)"


def test_import_users_reports_in_a_sentence(tmp_path):
    good = tmp_path / "users.json"
    bcrypt = "$2b$12$" + "a" * 53
    good.write_text(f'{{"username": "old one", "email": "old@example.com", "password": "{bcrypt}"}}\n')
    out, _ = run("import_users", str(good), "--dry-run")
    assert out.strip() == "The file is fine: 1 user would be imported (dry run, nothing written)."
    out, _ = run("import_users", str(good))
    assert out.strip() == "Imported 1 user."
