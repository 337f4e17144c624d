"""Users of the older FastAPI systems: their raw bcrypt hashes verify, are upgraded at login,
and `manage.py import_users` brings them in all or nothing."""
import json

import bcrypt
import pytest
from django.core.management import CommandError, call_command

from accounts.users.documents import LinkedId, User
from accounts.users.hashers import LegacyBcryptPasswordHasher


def raw_bcrypt(password: str) -> str:
    # What passlib wrote: bcrypt over the first 72 bytes of the password (cost 4 keeps tests fast).
    return bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(4)).decode()


def export_line(username, email, password, linked_id=None, oid=None) -> dict:
    doc = {"_id": {"$oid": oid or "66c9551c996fee15a88a28e4"}, "username": username, "email": email, "password": raw_bcrypt(password)}
    if linked_id:
        doc["linked_id"] = linked_id
    return doc


def write_lines(tmp_path, docs, array=False):
    path = tmp_path / "users.json"
    path.write_text(json.dumps(docs) if array else "\n".join(json.dumps(d) for d in docs))
    return path


def test_hasher_verifies_and_refuses():
    hasher = LegacyBcryptPasswordHasher()
    encoded = hasher.wrap(raw_bcrypt("sandesh"))
    assert hasher.verify("sandesh", encoded)
    assert not hasher.verify("Sandesh", encoded)
    assert hasher.must_update(encoded)
    assert hasher.safe_summary(encoded)["work factor"] == 4


def test_passwords_past_72_bytes_are_truncated_as_passlib_did():
    long = "é" * 50  # 100 bytes
    encoded = LegacyBcryptPasswordHasher.wrap(raw_bcrypt(long))
    assert LegacyBcryptPasswordHasher().verify(long, encoded)


@pytest.mark.parametrize("damaged", ["legacy_bcrypt$", "legacy_bcrypt$$2b$12$short", "legacy_bcrypt$$2b$xx$" + "a" * 53, "other$abc"])
def test_a_damaged_hash_is_a_failed_check_not_an_error(damaged):
    assert LegacyBcryptPasswordHasher().verify("anything", damaged) is False


def test_import_then_login_with_the_old_password_upgrades_the_hash(api, tmp_path):
    path = write_lines(tmp_path, [export_line("sandesh bhujbal", "sandesh@gmail.com", "sandesh", "ext-1")])
    call_command("import_users", str(path))
    user = User.objects.get(email_key="sandesh@gmail.com")
    assert str(user.id) == "66c9551c996fee15a88a28e4"
    assert user.password.startswith("legacy_bcrypt$$2b$")
    assert LinkedId.objects(user=user.id).scalar("linked_id").first() == "ext-1"
    r = api.post("/login", {"email": "sandesh@gmail.com", "password": "sandesh"}, format="json")
    assert r.status_code == 200, r.content
    assert not User.objects.get(id=user.id).password.startswith("legacy_bcrypt$")
    assert api.post("/login", {"email": "sandesh@gmail.com", "password": "sandesh"}, format="json").status_code == 200


def test_import_reads_a_json_array(tmp_path):
    docs = [export_line(f"old user {n}", f"old{n}@example.com", "pw", oid=f"{n:024x}") for n in range(1, 4)]
    call_command("import_users", str(write_lines(tmp_path, docs, array=True)))
    assert User.objects.count() == 3


def test_bad_lines_are_listed_and_nothing_is_imported(tmp_path):
    path = tmp_path / "users.json"
    good = json.dumps(export_line("fine user", "fine@example.com", "pw", oid="1" * 24))
    lines = [good, "{not json", json.dumps({"username": "x", "email": "bad", "password": "plain"}), json.dumps([1])]
    path.write_text("\n".join(lines))
    with pytest.raises(CommandError) as exc:
        call_command("import_users", str(path))
    message = str(exc.value)
    assert "line 2" in message and "line 3" in message and "line 4" in message
    assert User.objects.count() == 0


def test_conflicts_with_existing_users_and_repeats_are_refused(tmp_path, user):
    docs = [
        export_line("someone", user.email.upper(), "pw", oid="2" * 24),
        export_line("twin", "twin@example.com", "pw", oid="3" * 24),
        export_line("TWIN", "twin2@example.com", "pw", oid="4" * 24),
    ]
    with pytest.raises(CommandError) as exc:
        call_command("import_users", str(write_lines(tmp_path, docs)))
    assert "line 1: email" in str(exc.value) and "line 3: username repeats line 2" in str(exc.value)
    assert User.objects.count() == 1


def test_dry_run_imports_nothing(tmp_path):
    call_command("import_users", str(write_lines(tmp_path, [export_line("dry", "dry@example.com", "pw")])), "--dry-run")
    assert User.objects.count() == 0


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_users", str(tmp_path / "nope.json"))


def test_skip_existing_imports_the_file_again_without_a_conflict(tmp_path, capsys):
    docs = [export_line("old one", "one@example.com", "pw", linked_id="crm:1", oid="5" * 24), export_line("old two", "two@example.com", "pw", oid="6" * 24)]
    call_command("import_users", str(write_lines(tmp_path, docs[:1])))
    with pytest.raises(CommandError, match="email 'one@example.com' is taken"):
        call_command("import_users", str(write_lines(tmp_path, docs)))  # without the flag: all or nothing
    capsys.readouterr()
    call_command("import_users", str(write_lines(tmp_path, docs)), "--skip-existing", "--dry-run")
    assert "1 user would be imported (1 user stored already, skipped)" in capsys.readouterr().out
    call_command("import_users", str(write_lines(tmp_path, docs)), "--skip-existing")
    assert "Imported 1 user (1 user stored already, skipped)." in capsys.readouterr().out
    call_command("import_users", str(write_lines(tmp_path, docs)), "--skip-existing")  # a third time: nothing to do
    assert "Imported 0 users (2 users stored already, skipped)." in capsys.readouterr().out
    assert sorted(User.objects.distinct("email")) == ["one@example.com", "two@example.com"]
    assert LinkedId.objects.count() == 1


def test_skip_existing_still_refuses_a_name_held_by_somebody_else(tmp_path, user):
    docs = [export_line(user.username, "other@example.com", "pw", oid="7" * 24)]
    with pytest.raises(CommandError, match="username 'alice' is taken"):
        call_command("import_users", str(write_lines(tmp_path, docs)), "--skip-existing")


def test_an_existing_id_counts_as_stored(tmp_path, capsys):
    call_command("import_users", str(write_lines(tmp_path, [export_line("first", "first@example.com", "pw", oid="8" * 24)])))
    capsys.readouterr()
    call_command("import_users", str(write_lines(tmp_path, [export_line("renamed", "renamed@example.com", "pw", oid="8" * 24)])), "--skip-existing")
    assert "Imported 0 users (1 user stored already, skipped)." in capsys.readouterr().out


def test_inserts_go_in_batches_and_report_their_progress(monkeypatch):
    from accounts.users import importing
    from accounts.users.hashers import LegacyBcryptPasswordHasher as hasher

    monkeypatch.setattr(importing, "IMPORT_BATCH", 2)
    rows = [
        {"username": f"batch {n}", "email": f"b{n}@example.com", "password": hasher.wrap(raw_bcrypt("pw")), "line": n, "id": None, "linked_id": f"b:{n}"}
        for n in range(1, 6)
    ]
    seen = []
    assert importing.users_import(rows=rows, progress=seen.append) == 5
    assert seen == [2, 2, 1]
    assert User.objects.count() == 5 and LinkedId.objects.count() == 5


def test_the_progress_bar_shows_at_a_terminal(tmp_path, monkeypatch):
    """tqdm draws only at a terminal (disable=None); here its stream is made one."""
    import io

    from accounts.management.commands import import_users

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    command = import_users.Command(stdout=io.StringIO(), stderr=out)
    command.handle(file=write_lines(tmp_path, [export_line("shown", "shown@example.com", "pw")]), dry_run=False, skip_existing=False)
    assert "importing" in out.getvalue() and "1/1" in out.getvalue()


def _rows(count: int, prefix: str = "imp") -> list[dict]:
    return [
        {"username": f"{prefix} {n}", "email": f"{prefix}{n}@example.com", "password": LegacyBcryptPasswordHasher.wrap(raw_bcrypt("pw")), "line": n, "id": None, "linked_id": f"{prefix}:{n}" if n % 2 else None}
        for n in range(1, count + 1)
    ]


def _events(event_type: str) -> list:
    from accounts.events.documents import OutboxJob

    return [job for job in OutboxJob.objects(kind="event") if job.payload["type"] == event_type]


def test_every_imported_user_is_announced_with_user_created(monkeypatch):
    """As a sign-up is: other services hear of every user, with what a sign-up's event says."""
    from accounts.users import importing

    monkeypatch.setattr(importing, "IMPORT_BATCH", 2)
    assert importing.users_import(rows=_rows(3)) == 3
    created = {job.payload["data"]["username"]: job for job in _events("user.created")}
    assert sorted(created) == ["imp 1", "imp 2", "imp 3"]
    first = User.objects.get(username="imp 1")
    assert created["imp 1"].user.id == first.id and created["imp 1"].status == "pending"
    assert created["imp 1"].payload["data"] == {
        "user_id": str(first.id), "username": "imp 1", "email": "imp1@example.com", "email_verified": True, "role": "user", "linked_ids": ["imp:1"],
    }
    assert created["imp 2"].payload["data"]["linked_ids"] == []


def test_a_write_refused_midway_keeps_no_user_and_takes_its_events_back(monkeypatch, user):
    """The third batch meets an email registered after the check (the unique index refuses it):
    every user of the run is removed, and so are their user.created events; the one a worker had
    already sent (its user of the first batch existed then) is answered by a user.deleted."""
    from accounts.events.documents import DELIVERED, OutboxJob
    from accounts.users import importing

    monkeypatch.setattr(importing, "IMPORT_BATCH", 2)
    monkeypatch.setattr(importing, "_problems", lambda rows: [])  # the race: checked before alice took it
    rows = _rows(5)
    rows[4]["email"] = user.email
    calls = []

    def written_then_one_sent(documents, **kwargs):
        ids = importing_outbox_write(documents, **kwargs)
        calls.append(ids)
        if len(calls) == 2:  # a worker delivered the first batch's first event meanwhile
            OutboxJob.objects(id=calls[0][0]).update_one(set__status=DELIVERED)
        return ids

    importing_outbox_write = importing.outbox_write
    monkeypatch.setattr(importing, "outbox_write", written_then_one_sent)
    with pytest.raises(ValueError, match="nothing was kept"):
        importing.users_import(rows=rows)
    assert list(User.objects.values_list("username")) == [user.username] and LinkedId.objects.count() == 0
    remaining = [job for job in _events("user.created") if job.subject_id != user.id]  # alice's own stays
    assert [job.id for job in remaining] == [calls[0][0]]  # the one sent stays as a record
    (deleted,) = _events("user.deleted")
    assert deleted.subject_id == remaining[0].subject_id and deleted.payload["data"]["linked_ids"] == ["imp:1"]
