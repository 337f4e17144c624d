"""manage.py delete_users, check_integrity and createadmin."""
import io
from datetime import timedelta

import pytest
from bson import ObjectId
from django.core.management import CommandError, call_command

from accounts.user_data.documents import DeletionRecord
from accounts.users.documents import LinkedId, User, now
from accounts.admin.documents import TrashEntry
from accounts.management.commands import delete_users
from accounts.admin.admins import admin_bootstrap_from_env
from accounts.users.linked_ids import linked_id_add
from accounts.admin.trash import user_trash
from profiles.documents import Details
from profiles.services import details_upsert


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def crowd(make_user):
    users = [make_user(f"corp {n}", f"corp{n}@corp.example") for n in range(7)] + [make_user("outsider", "out@else.example")]
    for u in users:
        linked_id_add(user=u, linked_id=f"id-{u.id}")
        details_upsert(user=u, phone="+15550000000")
    return users


def test_delete_by_ids(crowd):
    ids = [str(u.id) for u in crowd[:2]]
    out, _ = run("delete_users", "--ids", *ids, "--yes")
    assert "users" in out and User.objects(id__in=ids).count() == 0
    assert LinkedId.objects.count() == 6 and DeletionRecord.objects.count() == 2


def test_delete_by_comma_separated_ids(crowd):
    run("delete_users", "--ids", f"{crowd[0].id},{crowd[1].id}", "--yes")
    assert User.objects.count() == 6


def test_delete_by_file(crowd, tmp_path):
    path = tmp_path / "ids.txt"
    path.write_text("# to go\n" + "\n".join(str(u.id) for u in crowd[:3]) + "\n\n")
    run("delete_users", "--file", str(path), "--yes", "--batch-size", "2")
    assert User.objects.count() == 5


def test_delete_by_email_domain_in_batches(crowd):
    out, _ = run("delete_users", "--email-domain", "CORP.example", "--yes", "--batch-size", "3")
    assert [u.username for u in User.objects] == ["outsider"]
    assert "linked_ids" in out and "7" in out


def test_delete_trashed_older_than(crowd, admin):
    for u in crowd[:3]:
        user_trash(user=u, actor=admin, reason="old")
    TrashEntry.objects(user__in=[u.id for u in crowd[:2]]).update(set__trashed_at=now() - timedelta(days=40))
    run("delete_users", "--trashed-older-than", "30", "--yes", "--batch-size", "1")
    assert User.objects(id__in=[u.id for u in crowd[:2]]).count() == 0
    assert User.objects(id=crowd[2].id).count() == 1


def test_dry_run_prints_counts_per_collection_and_deletes_nothing(crowd):
    out, _ = run("delete_users", "--email-domain", "corp.example", "--dry-run", "--batch-size", "2")
    assert "dry run" in out
    lines = dict(line.split() for line in out.splitlines()[1:])
    # outbox: each user's pending user.created event, which goes with them (accounts/events/).
    assert lines == {"details": "7", "linked_ids": "7", "outbox": "7", "users": "7"}
    assert User.objects.count() == 8 and Details.objects.count() == 8


def test_without_yes_and_without_a_terminal_nothing_is_deleted(crowd):
    with pytest.raises(CommandError, match="--yes"):
        run("delete_users", "--email-domain", "corp.example")
    assert User.objects.count() == 8


def test_asks_on_a_terminal(crowd, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="Nothing deleted"):
        run("delete_users", "--ids", str(crowd[0].id))
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    run("delete_users", "--ids", str(crowd[0].id))
    assert User.objects.count() == 7


@pytest.mark.parametrize(
    "args,message",
    [
        (["--ids", "nope", "--yes"], "Not valid user ids"),
        (["--email-domain", "not a domain", "--yes"], "Not a domain"),
        (["--trashed-older-than", "-1", "--yes"], "0 or more"),
        (["--file", "/nonexistent/ids.txt", "--yes"], "Cannot read"),
        (["--ids", str(ObjectId()), "--batch-size", "0"], "at least 1"),
    ],
)
def test_bad_input_is_a_clear_error_and_deletes_nothing(crowd, args, message):
    with pytest.raises(CommandError, match=message):
        run("delete_users", *args)
    assert User.objects.count() == 8


def test_a_file_with_one_bad_line_deletes_nothing(crowd, tmp_path):
    path = tmp_path / "ids.txt"
    path.write_text(f"{crowd[0].id}\nnot-an-id\n")
    with pytest.raises(CommandError, match="line 2"):
        run("delete_users", "--file", str(path), "--yes")
    assert User.objects.count() == 8


def test_interrupted_run_can_be_run_again(crowd, monkeypatch):
    real = delete_users.users_chain_delete
    calls = {"n": 0}

    def interrupt_second_batch(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(**kwargs)

    monkeypatch.setattr(delete_users, "users_chain_delete", interrupt_second_batch)
    with pytest.raises(SystemExit) as exc:
        run("delete_users", "--email-domain", "corp.example", "--yes", "--batch-size", "3")
    assert exc.value.code == 130
    assert User.objects.count() == 5
    monkeypatch.setattr(delete_users, "users_chain_delete", real)
    run("delete_users", "--email-domain", "corp.example", "--yes", "--batch-size", "3")
    assert User.objects.count() == 1


def test_batches_never_exceed_the_batch_size(make_user, monkeypatch):
    """Memory stays flat: the command never holds more than one batch of ids."""
    for n in range(23):
        make_user(f"bulk {n}", f"bulk{n}@bulk.example")
    sizes = []
    real = delete_users.users_chain_delete

    def spy(**kwargs):
        sizes.append(len(kwargs["user_ids"]))
        return real(**kwargs)

    monkeypatch.setattr(delete_users, "users_chain_delete", spy)
    run("delete_users", "--email-domain", "bulk.example", "--yes", "--batch-size", "5")
    assert sizes == [5, 5, 5, 5, 3]


def test_check_integrity_finds_and_fixes_orphans(crowd):
    victim = crowd[0]
    User._get_collection().delete_one({"_id": victim.id})  # as if a delete had been cut short
    with pytest.raises(SystemExit) as exc:
        run("check_integrity")
    assert exc.value.code == 1
    out, _ = run("check_integrity", "--fix")
    assert "linked_ids" in out and "details" in out
    assert LinkedId.objects(user=victim.id).count() == 0 and Details.objects(user=victim.id).count() == 0
    out, _ = run("check_integrity")
    assert "No orphaned documents" in out


def test_createadmin_creates_and_promotes(settings, user):
    settings.ADMIN_PASSWORD = "a long admin passphrase"
    out, _ = run("createadmin", "--username", "boss", "--email", "boss@example.com", "--no-input")
    assert "Created admin" in out and User.objects.get(email_key="boss@example.com").role == "admin"
    out, _ = run("createadmin", "--username", "alice", "--email", "ALICE@example.com", "--no-input")
    assert "Made admin" in out and User.objects.get(id=user.id).role == "admin"


def test_a_promotion_by_createadmin_is_audited_and_told_once(settings, user):
    """Like a role change through PATCH /users/{id}: a role_change audit event and `user.updated`
    with the new role. Promoting an admin again changes nothing and tells nobody."""
    from accounts.events.documents import OutboxJob
    from accounts.users.documents import AuditEvent

    def told():
        return [job.payload["data"] for job in OutboxJob.objects(kind="event", user=user.id) if job.payload["type"] == "user.updated"]

    run("createadmin", "--username", "alice", "--email", "alice@example.com", "--no-input")
    assert told() == [{"user_id": str(user.id), "role": "admin"}]
    (audit,) = AuditEvent.objects(action="role_change", target=user.id)
    assert (audit.detail["old"], audit.detail["new"], audit.detail["via"]) == ("user", "admin", "createadmin")
    out, _ = run("createadmin", "--username", "alice", "--email", "alice@example.com", "--no-input")
    assert "Made admin" in out
    assert len(told()) == 1 and AuditEvent.objects(action="role_change", target=user.id).count() == 1


def test_createadmin_refuses_a_weak_or_missing_password(settings):
    settings.ADMIN_PASSWORD = ""
    with pytest.raises(CommandError, match="password"):
        run("createadmin", "--username", "boss", "--email", "boss@example.com", "--no-input")
    settings.ADMIN_PASSWORD = "12345678"
    with pytest.raises(CommandError):
        run("createadmin", "--username", "boss", "--email", "boss@example.com", "--no-input")
    assert User.objects.count() == 0


def test_admin_bootstrap_from_environment(settings):
    settings.ADMIN_USERNAME, settings.ADMIN_EMAIL, settings.ADMIN_PASSWORD = "first", "first@example.com", "first admin passphrase"
    created = admin_bootstrap_from_env()
    assert created.role == "admin"
    assert admin_bootstrap_from_env() is None  # an admin exists: nothing more
    assert User.objects(role="admin").count() == 1


def test_check_integrity_leaves_alone_what_may_still_be_on_its_way(settings, crowd):
    """The grace (INTEGRITY_GRACE_SECONDS, `--grace`): a sign-up's jobs written before its user, a
    chain delete and a trash move begun a moment ago are neither reported nor touched by --fix;
    the same, begun before the grace, are what a crash left, and --grace 0 looks at everything."""
    from accounts.admin.documents import TrashEntry
    from accounts.events.documents import OutboxJob
    from accounts.events.outbox import outbox_write
    from accounts.events.webhooks import event_job

    settings.INTEGRITY_GRACE_SECONDS = 60
    long_ago = now() - timedelta(minutes=5)
    # A sign-up on its way: its user.created, written before the user it names.
    on_its_way = outbox_write([event_job("user.created", user_id=ObjectId(), data={})], before_the_user=True)
    # A chain delete and a trash move in another process, each past its first write.
    deleting, moving = crowd[1], crowd[2]
    User._get_collection().update_one({"_id": deleting.id}, {"$set": {"deleting": True, "deleting_since": now()}})
    TrashEntry._get_collection().insert_one({"user": moving.id, "deleted_by": crowd[3].id, "deleted_at": now(), "reason": "spam"})
    out, _ = run("check_integrity", "--fix")
    assert "No orphaned documents" in out
    assert OutboxJob.objects(id__in=on_its_way).count() == 1 and User.objects(id=deleting.id).count() == 1
    # Older than the grace: what a crash left.
    stale = event_job("user.created", user_id=ObjectId(), data={})
    OutboxJob._get_collection().insert_one({**stale, "_id": ObjectId.from_datetime(long_ago)})
    User._get_collection().update_one({"_id": deleting.id}, {"$set": {"deleting_since": long_ago}})
    report = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("check_integrity", stdout=report)
    assert exc.value.code == 1
    assert "users.deleting" in report.getvalue() and "outbox" in report.getvalue() and "trash_unmarked" not in report.getvalue()
    report = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("check_integrity", "--grace", "0", stdout=report)
    assert "trash_unmarked" in report.getvalue()  # the move begun a moment ago, counted at --grace 0
    with pytest.raises(CommandError, match="--grace"):
        run("check_integrity", "--grace", "-1")
