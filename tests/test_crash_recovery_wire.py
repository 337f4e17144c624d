"""Issue 20, item 5: a real crash (SIGKILL of the process, nothing flushed, no `finally`) at each
step of a chain delete (`manage.py delete_users`) and of a bulk trash, in a child process
against a SecantusDB server of the test's own; then `manage.py check_integrity` sees it (exit 1),
`--repair` finishes it (exit 0), and nothing is lost or doubled. The steps are the failpoints
the operations pass (tests/test_crash_recovery.py records them, and checks the answers of the
API at each: these tests add the real kill). TEST_MONGODB_URI plays no part: they run in the run
on mongomock only (`own_servers`, tests/conftest.py)."""
import json
import signal

import pytest
from bson import ObjectId

from accounts.admin import trash
from accounts.user_data.services import users_chain_delete
from common import failpoints
from tests.faults import database_server, manage, python

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.own_servers]

KILLED = -signal.SIGKILL

SEED = """
import json
from accounts.users.registration import user_register
from accounts.users.linked_ids import linked_id_add
people = []
for n in range({count}):
    user = user_register(username=f"victim {{n}}", email=f"victim{{n}}@example.com", password="a long river stone", role="admin" if n == 0 else "user")
    linked_id_add(user=user, linked_id=f"crm-{{n}}")
    people.append(str(user.id))
print(json.dumps(people))
"""

BULK_TRASH = """
from accounts.admin import trash
from accounts.users.documents import User
admin = User.objects.get(username_key="victim 0")
trash.users_trash_bulk(ids={ids!r}, actor=admin, reason="spam")
"""


def recorded(operation) -> list[str]:
    with failpoints.recording() as names:
        operation()
    return list(dict.fromkeys(names))


def seeded(uri: str, count: int) -> list[str]:
    done = python(uri, SEED.format(count=count))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def check(uri: str, *args: str, code: int) -> str:
    # Right after the crash, nothing else running: no grace (what was killed a moment ago counts).
    done = manage(uri, "check_integrity", "--grace", "0", *args)
    assert done.returncode == code, done.stdout + done.stderr[-3000:]
    return done.stdout


def test_a_delete_users_killed_at_its_steps_is_found_and_finished_by_repair(make_user, admin):
    people = [make_user() for _ in range(2)]
    steps = recorded(lambda: users_chain_delete(user_ids=[p.id for p in people], actor_id=admin.id, reason="x"))
    # The mark, the events, the first collection, the anonymising and the records: a child
    # process each costs seconds; the in-process tests cut it short after every collection too.
    steps = steps[:3] + steps[-2:]
    with database_server() as server:
        uri = server.db_uri("crash_kill_delete")
        ids = seeded(uri, 1 + 2 * len(steps))  # victim 0 stays: the admin
        db = server.client()["crash_kill_delete"]
        for n, step in enumerate(steps):
            pair = ids[1 + 2 * n: 3 + 2 * n]
            killed = manage(uri, "delete_users", "--ids", *pair, "--yes", "--reason", "gdpr", failpoints=f"{step}=kill")
            assert killed.returncode == KILLED, (step, killed.stdout, killed.stderr[-2000:])
            oids = [ObjectId(i) for i in pair]
            # Cut short: both users still there are marked, so neither logs in nor is read.
            assert all(row.get("deleting") for row in db.users.find({"_id": {"$in": oids}})), step
            out = check(uri, code=1)
            assert "users.deleting" in out and pair[0] in out, (step, out)
            out = check(uri, "--repair", code=0)
            assert "finished the chain delete of" in out, (step, out)
            assert db.users.count_documents({"_id": {"$in": oids}}) == 0, step
            assert db.linked_ids.count_documents({"user": {"$in": oids}}) == 0, step
            records = list(db.deletion_records.find({"user_id": {"$in": oids}}))
            assert sorted(r["user_id"] for r in records) == sorted(oids) and {r["reason"] for r in records} == {"gdpr"}, step
            assert db.outbox.count_documents({"subject_id": {"$in": oids}, "payload.type": "user.deleted"}) == 2, step
        assert "No orphaned documents" in check(uri, code=0)
        assert db.users.count_documents({}) == 1


def test_a_bulk_trash_killed_at_each_step_is_found_and_finished_by_repair(make_user, admin):
    people = [make_user() for _ in range(2)]
    steps = recorded(lambda: trash.users_trash_bulk(ids=[str(p.id) for p in people], actor=admin, reason="x"))
    with database_server() as server:
        uri = server.db_uri("crash_kill_trash")
        ids = seeded(uri, 1 + 3 * len(steps))
        db = server.client()["crash_kill_trash"]
        for n, step in enumerate(steps):
            three = ids[1 + 3 * n: 4 + 3 * n]
            killed = python(uri, BULK_TRASH.format(ids=three), failpoints=f"{step}=kill")
            assert killed.returncode == KILLED, (step, killed.stdout, killed.stderr[-2000:])
            oids = [ObjectId(i) for i in three]
            listed = {row["user"] for row in db.trash.find({"user": {"$in": oids}})}
            for row in db.users.find({"_id": {"$in": oids}}):
                assert row["_id"] in listed, step  # in /trash (and in /users until marked): never hidden
            out = check(uri, code=1)
            assert "trash_" in out, (step, out)
            out = check(uri, "--repair", code=0)
            assert "finished 3 trash moves" in out, (step, out)
            assert db.users.count_documents({"_id": {"$in": oids}, "in_trash": True, "trash_pending": {"$exists": False}}) == 3, step
            entries = {row["_id"] for row in db.trash.find({"user": {"$in": oids}})}
            audits = {row["_id"] for row in db.audit_events.find({"action": "trash", "target": {"$in": oids}})}
            assert len(entries) == 3 and audits == entries, step  # one audit event per move, none lost
            assert db.outbox.count_documents({"subject_id": {"$in": oids}, "payload.type": "user.trashed"}) == 3, step
        assert "No orphaned documents" in check(uri, code=0)
