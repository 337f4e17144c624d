"""Issue 12, items 3 and 4: a trash move is never half done, and it ends the account's tokens for
good. Bulk ids are normalised (ObjectId hex in any letter case) and de-duplicated; the user is
marked first and the trash entry written second, so a crash in between leaves an account that
cannot log in, and the same call again completes the move."""
import pytest
from bson import ObjectId

from accounts.users.documents import AuditEvent, User
from accounts.admin.documents import TrashEntry
from accounts.admin import trash
from accounts.sessions.tokens import token_pair_for
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


class Crash(Exception):
    pass


def crash_on_trash_entry_write(monkeypatch):
    """Make the second write of a trash move (the trash entry) fail, as a crash would."""
    original_save, original_insert = TrashEntry.save, trash.trash_entries_insert

    def save(self, *args, **kwargs):
        raise Crash

    def insert(*args, **kwargs):
        raise Crash

    monkeypatch.setattr(TrashEntry, "save", save)
    monkeypatch.setattr(trash, "trash_entries_insert", insert)
    return lambda: (monkeypatch.setattr(TrashEntry, "save", original_save), monkeypatch.setattr(trash, "trash_entries_insert", original_insert))


def test_a_crash_between_the_writes_of_a_trash_move_fails_closed_and_a_retry_completes_it(client_for, api, admin, user, monkeypatch):
    access = client_for(user)
    heal = crash_on_trash_entry_write(monkeypatch)
    with pytest.raises(Crash):
        trash.user_trash(user=user, actor=admin, reason="spam")
    # Half done: the account is already unusable, never "in the trash yet still live".
    assert login(api, user).status_code == 401
    assert access.get("/users/me").status_code == 401
    heal()
    assert trash.user_trash(user=user, actor=admin, reason="spam") is True
    assert TrashEntry.objects.get(user=user.id).reason == "spam"
    assert [row["user_id"] for row in client_for(admin).get("/trash").json()["data"]] == [str(user.id)]


def test_a_crash_in_a_bulk_move_is_completed_by_the_same_call_again(client_for, admin, make_user, monkeypatch):
    users = [make_user() for _ in range(3)]
    body = {"ids": [str(u.id) for u in users], "reason": "spam"}
    heal = crash_on_trash_entry_write(monkeypatch)
    with pytest.raises(Crash):
        trash.users_trash_bulk(ids=body["ids"], actor=admin, reason="spam")
    heal()
    r = client_for(admin).post("/trash/bulk_delete", body, format="json")
    assert r.status_code == 200
    assert TrashEntry.objects.count() == 3 and User.objects(in_trash=True).count() == 3
    assert client_for(admin).get("/trash").json()["total"] == 3


def test_restore_and_purge_complete_a_half_done_move(client_for, admin, make_user, monkeypatch):
    first, second = make_user(), make_user()
    heal = crash_on_trash_entry_write(monkeypatch)
    for victim in (first, second):
        with pytest.raises(Crash):
            trash.user_trash(user=victim, actor=admin, reason="spam")
    heal()
    assert client_for(admin).post(f"/trash/{first.id}/restore").status_code == 200
    assert not User.objects.get(id=first.id).in_trash
    assert client_for(admin).delete(f"/trash/{second.id}").status_code == 204
    assert not User.objects(id=second.id).count()


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
