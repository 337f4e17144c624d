"""Issue 20, items 3 and 5: a crash at each step of a chain delete and of a bulk trash, then the
recovery (the same operation again, or `manage.py check_integrity --repair`).

The steps are the failpoints an operation passes (common/failpoints.py), recorded from a run, so
a step added later is covered at once. At each, a fault unwinds the operation there (as a crash
does, for what is in the database), and then:
- nothing half done logs in, refreshes or is read as if alive;
- nothing is hidden from both /users and /trash;
- `check_integrity` reports it (exit 1), and after the recovery nothing (exit 0);
- no audit event of a move is lost or doubled, each deleted user has one deletion record and one
  user.deleted event, no document of a deleted user is left.
They run on mongomock and over the wire (TEST_MONGODB_URI). Killed child processes:
tests/test_crash_recovery_wire.py."""
import io

import pytest
from django.core.management import call_command

from accounts.admin import trash
from accounts.admin.documents import TrashEntry
from accounts.events.documents import OutboxJob
from accounts.events.webhooks import USER_DELETED
from accounts.user_data.documents import DeletionRecord
from accounts.user_data.services import orphans_find, users_chain_delete
from accounts.users.documents import AuditEvent, LinkedId, User
from accounts.users.linked_ids import linked_id_add
from common import failpoints
from profiles.services import details_upsert
from tests.conftest import PASSWORD

RECOVERIES = ["again", "repair"]


def integrity(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("check_integrity", *args, stdout=out, stderr=io.StringIO())
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def steps(operation) -> list[str]:
    with failpoints.recording() as names:
        operation()
    assert names, "the operation passes no failpoint"
    return list(dict.fromkeys(names))


def login(api, user) -> int:
    return api.post("/login", {"email": user.email, "password": PASSWORD}, format="json").status_code


def listed(client, path: str, key: str) -> set[str]:
    """Every id a listing shows, page by page."""
    seen, page = set(), 1
    while True:
        body = client.get(f"{path}?per_page=30&page={page}").json()
        seen |= {row[key] for row in body["data"]}
        if not body["has_next"]:
            return seen
        page += 1


def events(event_type: str, user_ids) -> int:
    """How many `event_type` events about these users the outbox holds."""
    return OutboxJob._get_collection().count_documents({"subject_id": {"$in": list(user_ids)}, "payload.type": event_type})


def signed_in(api, user) -> dict:
    r = api.post("/login", {"email": user.email, "password": PASSWORD}, format="json")
    assert r.status_code == 200, r.content
    return r.json()


# --- the chain delete -------------------------------------------------------------------------
def victims(make_user, n: int = 2) -> list[User]:
    people = [make_user() for _ in range(n)]
    for person in people:
        linked_id_add(user=person, linked_id=f"crm-{person.id}")
        details_upsert(user=person, phone="+15550000000")
    return people


def test_the_chain_delete_passes_its_steps_in_order(make_user, admin):
    people = victims(make_user)
    names = steps(lambda: users_chain_delete(user_ids=[p.id for p in people], actor_id=admin.id, reason="x"))
    assert names[:2] == ["chain_delete.marked", "chain_delete.events"]
    assert names[-2:] == ["chain_delete.anonymised", "chain_delete.recorded"]
    assert "chain_delete.dependents.linked_ids" in names


def chain_delete_steps(make_user, admin) -> list[str]:
    people = victims(make_user)
    return steps(lambda: users_chain_delete(user_ids=[p.id for p in people], actor_id=admin.id, reason="x"))


@pytest.mark.parametrize("recovery", RECOVERIES)
def test_a_chain_delete_cut_short_at_each_step_is_never_half_visible_and_is_finished(api, client_for, make_user, admin, recovery):
    for step in chain_delete_steps(make_user, admin):
        people = victims(make_user)
        tokens = [signed_in(api, p) for p in people]
        ids = [p.id for p in people]
        with failpoints.armed(step, failpoints.Raise()), pytest.raises(failpoints.FailpointError):
            users_chain_delete(user_ids=ids, actor_id=admin.id, reason="gdpr")

        # Cut short: gone to everybody, found by check_integrity.
        boss = client_for(admin)
        for person, pair in zip(people, tokens):
            assert login(api, person) == 401, step
            assert api.post("/auth/refresh", {"refresh": pair["refresh"]}, format="json").status_code == 401, step
            assert api.get("/users/me", HTTP_AUTHORIZATION=f"Bearer {pair['access']}").status_code == 401, step
            assert boss.get(f"/users/{person.id}").status_code == 404, step
            assert boss.get(f"/users/user_with_details/{person.id}").status_code == 404, step
        assert not {str(i) for i in ids} & listed(boss, "/users", "id"), step
        code, out = integrity()
        assert code == 1 and "users.deleting" in out and str(ids[0]) in out, (step, out)

        if recovery == "again":  # an admin's delete of one, the command for the other
            assert boss.delete(f"/users/delete_user/{ids[0]}").status_code == 200, step
            call_command("delete_users", "--ids", str(ids[1]), "--yes", stdout=io.StringIO(), stderr=io.StringIO())
        else:
            code, out = integrity("--repair")
            assert code == 0 and "finished the chain delete of 2 users" in out, (step, out)

        assert integrity() == (0, "No orphaned documents. Every user's copies match their documents.\n"), step
        assert User.objects(id__in=ids).count() == 0 and LinkedId.objects(user__in=ids).count() == 0, step
        assert not any(orphans_find().values()), step
        for user_id in ids:
            records = list(DeletionRecord.objects(user_id=user_id))
            # The intent's actor and reason, whoever finished it.
            assert [(r.deleted_by, r.reason) for r in records] == [(admin.id, "gdpr")], step
            assert events(USER_DELETED, [user_id]) == 1, step


def test_an_admin_finishes_a_purge_cut_short_and_the_trash_shows_no_name_meanwhile(client_for, make_user, admin):
    person = victims(make_user, 1)[0]
    trash.user_trash(user=person, actor=admin, reason="spam")
    with failpoints.armed("chain_delete.events", failpoints.Raise()), pytest.raises(failpoints.FailpointError):
        trash.user_purge(user=User.objects.get(id=person.id), actor=admin)
    boss = client_for(admin)
    rows = boss.get("/trash").json()["data"]
    assert [(r["user_id"], r["username"], r["email"]) for r in rows] == [(str(person.id), None, None)]
    assert boss.post(f"/trash/{person.id}/restore").status_code == 404
    assert boss.delete(f"/trash/{person.id}").status_code == 204
    assert boss.get("/trash").json()["total"] == 0
    assert DeletionRecord.objects.get(user_id=person.id).reason == "spam"


def test_only_an_admin_finishes_a_delete_and_others_see_nothing(client_for, make_user, admin, other):
    person = victims(make_user, 1)[0]
    with failpoints.armed("chain_delete.marked", failpoints.Raise()), pytest.raises(failpoints.FailpointError):
        users_chain_delete(user_ids=[person.id], actor_id=None, reason="x")
    assert client_for(other).delete(f"/users/delete_user/{person.id}").status_code in (403, 404)
    assert User.objects(id=person.id).count() == 1
    assert client_for(admin).get(f"/users/{person.id}/export").status_code == 404


def test_an_admin_being_deleted_is_no_active_admin(client_for, make_user, admin):
    second = make_user(role="admin")
    with failpoints.armed("chain_delete.marked", failpoints.Raise()), pytest.raises(failpoints.FailpointError):
        users_chain_delete(user_ids=[second.id], actor_id=None, reason="x")
    # The last admin who can log in may not go, whatever the half-deleted one's document says.
    r = client_for(admin).delete(f"/users/delete_user/{admin.id}")
    assert r.status_code == 409


# --- the bulk trash ---------------------------------------------------------------------------
def bulk_steps(make_user, admin) -> list[str]:
    people = [make_user() for _ in range(2)]
    return steps(lambda: trash.users_trash_bulk(ids=[str(p.id) for p in people], actor=admin, reason="x"))


def test_the_bulk_trash_passes_its_steps_in_order(make_user, admin):
    assert bulk_steps(make_user, admin) == ["trash.entries", "trash.marked", "trash.sessions_ended", "trash.audited", "trash.evented"]


def moves_of(ids) -> tuple[int, int]:
    """(audit events, user.trashed events) of these users' trash moves."""
    return (
        AuditEvent.objects(action="trash", target__in=ids).count(),
        events("user.trashed", ids),
    )


@pytest.mark.parametrize("recovery", RECOVERIES)
def test_a_bulk_trash_cut_short_at_each_step_hides_nobody_loses_no_audit_event_and_is_finished(api, client_for, make_user, admin, recovery):
    boss = client_for(admin)
    for step in bulk_steps(make_user, admin):
        people = [make_user() for _ in range(3)]
        ids = [p.id for p in people]
        body = {"ids": [str(i) for i in ids], "reason": "spam"}
        with failpoints.armed(step, failpoints.Raise()), pytest.raises(failpoints.FailpointError):
            trash.users_trash_bulk(ids=body["ids"], actor=admin, reason="spam")

        live, trashed = listed(boss, "/users", "id"), listed(boss, "/trash", "user_id")
        for person in people:
            key = str(person.id)
            assert key in live | trashed, step  # never hidden from both
            if User.objects.get(id=person.id).in_trash:
                assert key in trashed and login(api, person) == 401, step
            else:
                assert key in live and login(api, person) == 200, step
        code, out = integrity()
        assert code == 1 and "trash_" in out, (step, out)

        if recovery == "again":
            r = boss.post("/trash/bulk_delete", body, format="json")
            assert r.status_code == 200, step
            assert sorted(r.json()["deleted_now"] + r.json()["already_deleted"]) == sorted(body["ids"]), step
        else:
            code, out = integrity("--repair")
            assert code == 0 and "finished 3 trash moves" in out, (step, out)

        assert integrity()[0] == 0, step
        assert set(body["ids"]) <= listed(boss, "/trash", "user_id") and not set(body["ids"]) & listed(boss, "/users", "id"), step
        assert all(login(api, p) == 401 for p in people), step
        assert moves_of(ids) == (3, 3), step  # each move's audit event and user.trashed, once
        events = {e.target.id: e for e in AuditEvent.objects(action="trash", target__in=ids)}
        assert {(e.actor_id, e.detail["reason"]) for e in events.values()} == {(admin.id, "spam")}, step
        assert {e["_id"] for e in TrashEntry._get_collection().find({"user": {"$in": ids}})} == {e.id for e in events.values()}, step
        assert User.objects(id__in=ids, trash_pending=True).count() == 0, step


def test_repair_writes_an_entry_for_an_account_in_the_trash_without_one(client_for, make_user, admin):
    """As an older version's crash left it (the entry was its last write)."""
    person = make_user()
    User._get_collection().update_one({"_id": person.id}, {"$set": {"in_trash": True}})
    code, out = integrity()
    assert code == 1 and "trash_no_entry" in out and str(person.id) in out
    code, out = integrity("--repair")
    assert code == 0, out
    entry = TrashEntry.objects.get(user=person.id)
    assert entry.trashed_by == trash.REPAIR_ACTOR and "without an entry" in entry.reason
    assert [r["user_id"] for r in client_for(admin).get("/trash").json()["data"]] == [str(person.id)]
    assert moves_of([person.id]) == (1, 1)


@pytest.mark.parametrize("step", ["restore.intent", "restore.unmarked", "restore.recorded"])
def test_repair_finishes_a_restore_cut_short(client_for, make_user, admin, step):
    person = make_user()
    trash.user_trash(user=person, actor=admin, reason="spam")
    with failpoints.armed(step, failpoints.Raise()), pytest.raises(failpoints.FailpointError):
        trash.user_restore(user=User.objects.get(id=person.id), actor=admin)
    code, out = integrity()
    assert code == 1 and "trash_restoring" in out, out
    code, out = integrity("--fix")  # the contract's name of the same flag
    assert code == 0 and "finished 1 restores" in out, out
    assert integrity()[0] == 0
    assert client_for(admin).get("/trash").json()["total"] == 0
    assert AuditEvent.objects.get(action="restore", target=person.id).actor_id == admin.id
    assert events("user.restored", [person.id]) == 1


def test_a_repair_that_would_leave_no_admin_stops_and_says_so(make_user, admin):
    second = make_user(role="admin")
    with failpoints.armed("trash.entries", failpoints.Raise()), pytest.raises(failpoints.FailpointError):
        trash.users_trash_bulk(ids=[str(admin.id)], actor=second, reason="oops")
    trash.user_trash(user=second, actor=admin, reason="left")
    with pytest.raises(Exception, match="without an active admin"):
        integrity("--repair")
    assert User.objects.get(id=admin.id).in_trash is False


def test_a_chain_delete_racing_a_trash_move_leaves_nothing_behind(make_user, admin):
    person = victims(make_user, 1)[0]

    def delete(_):
        users_chain_delete(user_ids=[person.id], actor_id=admin.id, reason="raced")

    with failpoints.armed("trash.marked", failpoints.Call(delete)):
        trash.users_trash_bulk(ids=[str(person.id)], actor=admin, reason="spam")
    assert User.objects(id=person.id).count() == 0
    assert not any(orphans_find().values())
    assert integrity()[0] == 0


def test_a_restore_of_an_account_in_the_trash_without_an_entry_is_audited(client_for, make_user, admin):
    """An older version's crash between a move's writes left it so."""
    person = make_user()
    User._get_collection().update_one({"_id": person.id}, {"$set": {"in_trash": True}})
    assert client_for(admin).post(f"/trash/{person.id}/restore").status_code == 200
    assert AuditEvent.objects(action="restore", target=person.id).count() == 1
    assert client_for(admin).post(f"/trash/{person.id}/restore").status_code == 404


def test_a_trash_move_after_a_restore_cut_short_finishes_that_restore_first(make_user, admin):
    person = make_user()
    trash.user_trash(user=person, actor=admin, reason="first")
    with failpoints.armed("restore.recorded", failpoints.Raise()), pytest.raises(failpoints.FailpointError):
        trash.user_restore(user=User.objects.get(id=person.id), actor=admin)
    assert trash.user_trash(user=User.objects.get(id=person.id), actor=admin, reason="second") is True
    assert TrashEntry.objects.get(user=person.id).reason == "second"
    assert [e.action for e in AuditEvent.objects(target=person.id, action__in=["trash", "restore"]).order_by("at")] == ["trash", "restore", "trash"]
    assert integrity()[0] == 0


def test_a_delivery_whose_worker_died_is_reported_and_released(user):
    from datetime import timedelta

    from accounts.events.webhooks import event_emit
    from accounts.users.documents import now

    job = event_emit("user.updated", user_id=user.id)
    OutboxJob._get_collection().update_one({"_id": job}, {"$set": {"leased_until": now() - timedelta(seconds=1), "lease_token": "dead"}})
    code, out = integrity()
    assert code == 1 and "outbox.leased" in out and str(job) in out
    code, out = integrity("--repair")
    assert code == 0 and "released 1 jobs" in out
    assert OutboxJob._get_collection().find_one({"_id": job})["lease_token"] is None


def test_a_restore_of_a_move_cut_short_after_the_mark_keeps_the_moves_audit_event(client_for, make_user, admin):
    person = make_user()
    with failpoints.armed("trash.marked", failpoints.Raise()), pytest.raises(failpoints.FailpointError):
        trash.user_trash(user=person, actor=admin, reason="spam")
    assert client_for(admin).post(f"/trash/{person.id}/restore").status_code == 200
    assert [e.action for e in AuditEvent.objects(target=person.id, action__in=["trash", "restore"]).order_by("at")] == ["trash", "restore"]
    assert moves_of([person.id]) == (1, 1)
    assert integrity()[0] == 0
