"""Issue 12, items 3 and 4: a trash move is never half done, and it ends the account's tokens for
good. Bulk ids are normalised (ObjectId hex in any letter case) and de-duplicated. Issue 20: the
trash entry (the intent) is written first and the mark second, so a crash leaves the account
listed (in /trash, and in /users until marked) and unable to log in once marked, and the same
call again completes the move, its audit event written once."""
import pytest
from bson import ObjectId

from accounts.users.documents import AuditEvent, User
from accounts.admin.documents import TrashEntry
from accounts.admin import trash
from accounts.sessions.tokens import token_pair_for
from common import failpoints
from tests.conftest import PASSWORD


def login(api, user):
    return api.post("/login", {"email": user.email, "password": PASSWORD}, format="json")


def test_one_id_twice_in_different_case_is_one_trash_move(client_for, api, admin, user):
    body = {"ids": [str(user.id), str(user.id).upper()], "reason": "spam"}
    r = client_for(admin).post("/trash/bulk_delete", body, format="json")
    assert r.status_code == 200
    assert r.json() == {"deleted_now": [str(user.id)], "already_deleted": [], "not_found": []}
    assert TrashEntry.objects.count() == 1 and AuditEvent.objects(action="trash").count() == 1
    assert login(api, user).status_code == 401
    assert User.objects.get(id=user.id).in_trash
    again = client_for(admin).post("/trash/bulk_delete", body, format="json")
    assert again.status_code == 200 and again.json()["already_deleted"] == [str(user.id)]


def crash_at(name):
    """A crash that unwinds at the failpoint `name` of a trash move (common/failpoints.py)."""
    return failpoints.armed(name, failpoints.Raise())


def test_a_crash_after_the_entry_leaves_the_account_listed_and_a_retry_completes_it(client_for, api, admin, user):
    with crash_at("trash.entries"), pytest.raises(failpoints.FailpointError):
        trash.user_trash(user=user, actor=admin, reason="spam")
    # Half done: the intent is written and listed in /trash, the account not yet moved (issue 20:
    # never hidden from both /users and /trash).
    assert [row["user_id"] for row in client_for(admin).get("/trash").json()["data"]] == [str(user.id)]
    assert str(user.id) in [row["id"] for row in client_for(admin).get("/users").json()["data"]]
    assert trash.user_trash(user=User.objects.get(id=user.id), actor=admin, reason="other") is True
    assert TrashEntry.objects.get(user=user.id).reason == "spam"  # the intent's, not the retry's
    assert login(api, user).status_code == 401
    assert AuditEvent.objects(action="trash", target=user.id).count() == 1


def test_a_crash_after_the_mark_fails_closed_and_a_retry_writes_the_audit_event_once(client_for, api, admin, user):
    access = client_for(user)
    with crash_at("trash.marked"), pytest.raises(failpoints.FailpointError):
        trash.user_trash(user=user, actor=admin, reason="spam")
    assert login(api, user).status_code == 401
    assert access.get("/users/me").status_code == 401
    assert [row["user_id"] for row in client_for(admin).get("/trash").json()["data"]] == [str(user.id)]
    assert trash.user_trash(user=User.objects.get(id=user.id), actor=admin, reason="spam") is True
    assert trash.user_trash(user=User.objects.get(id=user.id), actor=admin, reason="spam") is False
    assert AuditEvent.objects(action="trash", target=user.id).count() == 1
    assert User.objects.get(id=user.id).trash_pending is None


def test_a_crash_in_a_bulk_move_is_completed_by_the_same_call_again(client_for, admin, make_user):
    users = [make_user() for _ in range(3)]
    body = {"ids": [str(u.id) for u in users], "reason": "spam"}
    with crash_at("trash.audited"), pytest.raises(failpoints.FailpointError):
        trash.users_trash_bulk(ids=body["ids"], actor=admin, reason="spam")
    r = client_for(admin).post("/trash/bulk_delete", body, format="json")
    assert r.status_code == 200 and r.json()["already_deleted"] == body["ids"]
    assert TrashEntry.objects.count() == 3 and User.objects(in_trash=True).count() == 3
    assert AuditEvent.objects(action="trash").count() == 3
    assert client_for(admin).get("/trash").json()["total"] == 3


def test_restore_and_purge_complete_a_half_done_move(client_for, admin, make_user):
    first, second = make_user(), make_user()
    for victim in (first, second):
        with crash_at("trash.marked"), pytest.raises(failpoints.FailpointError):
            trash.user_trash(user=victim, actor=admin, reason="spam")
    assert client_for(admin).post(f"/trash/{first.id}/restore").status_code == 200
    assert not User.objects.get(id=first.id).in_trash
    assert client_for(admin).delete(f"/trash/{second.id}").status_code == 204
    assert not User.objects(id=second.id).count()


@pytest.mark.parametrize("step", ["restore.intent", "restore.unmarked", "restore.recorded"])
def test_a_restore_cut_short_stays_listed_and_a_second_restore_finishes_it(client_for, admin, user, step):
    trash.user_trash(user=user, actor=admin, reason="spam")
    with crash_at(step), pytest.raises(failpoints.FailpointError):
        trash.user_restore(user=User.objects.get(id=user.id), actor=admin)
    assert [row["user_id"] for row in client_for(admin).get("/trash").json()["data"]] == [str(user.id)]
    assert client_for(admin).post(f"/trash/{user.id}/restore").status_code == 200
    assert client_for(admin).get("/trash").json()["total"] == 0
    assert not User.objects.get(id=user.id).in_trash
    assert AuditEvent.objects(action="restore", target=user.id).count() == 1


# --- item 4 ------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["single", "bulk"])
def test_a_restore_does_not_revive_tokens_issued_before_the_trash_move(api, client_for, admin, user, how):
    pair = token_pair_for(user)
    before = {"HTTP_AUTHORIZATION": f"Bearer {pair.access_token}"}
    assert api.get("/users/me", **before).status_code == 200
    if how == "single":
        assert client_for(user).delete(f"/users/{user.id}?reason=leaving").status_code == 204
    else:
        client_for(admin).post("/trash/bulk_delete", {"ids": [str(user.id)], "reason": "x"}, format="json")
    assert client_for(admin).post(f"/trash/{user.id}/restore").status_code == 200
    assert api.get("/users/me", **before).status_code == 401
    assert api.post("/auth/refresh", {"refresh": str(pair)}, format="json").status_code == 401
    fresh = login(api, user)
    assert fresh.status_code == 200
    assert api.get("/users/me", HTTP_AUTHORIZATION=f"Bearer {fresh.json()['access']}").status_code == 200


def test_unknown_and_malformed_ids_are_reported_once_valid_ones_in_lower_case(client_for, admin):
    unknown = str(ObjectId()).upper()
    r = client_for(admin).post("/trash/bulk_delete", {"ids": [unknown, "nope", "nope"], "reason": "x"}, format="json")
    assert r.json() == {"deleted_now": [], "already_deleted": [], "not_found": [unknown.lower(), "nope"]}
