"""GET /users/me, GET and PATCH /users/{user_id}, POST /users/{user_id}/password."""
import pytest

from accounts.users.documents import AuditEvent, User
from tests.conftest import PASSWORD

USER_KEYS = {"id", "username", "email", "role", "email_verified", "linked_ids", "mfa_enabled", "passkeys_count", "avatar_url", "created_at", "updated_at"}


def test_me_is_the_join_of_the_caller(client_for, user):
    r = client_for(user).get("/users/me/")
    assert r.status_code == 200
    assert r.json()["user"]["_id"] == str(user.id)
    assert r.json()["details"] is None


def test_me_needs_a_token(api):
    r = api.get("/users/me")
    assert r.status_code == 401
    assert r["WWW-Authenticate"].startswith("Bearer")


def test_get_user_has_the_documented_keys_and_no_password(client_for, user):
    r = client_for(user).get(f"/users/{user.id}")
    assert r.status_code == 200
    assert set(r.json()) == USER_KEYS
    assert "password" not in r.content.decode()


@pytest.mark.parametrize("caller,expected", [("owner", 200), ("other", 403), ("admin", 200), (None, 401)])
def test_get_user_matrix(client_for, user, other, admin, caller, expected):
    callers = {"owner": user, "other": other, "admin": admin, None: None}
    assert client_for(callers[caller]).get(f"/users/{user.id}").status_code == expected


def test_stranger_gets_403_before_404_or_409(client_for, other, user):
    assert client_for(other).get("/users/" + "a" * 24).status_code == 403
    assert client_for(other).patch(f"/users/{user.id}", {"username": "bob"}, format="json").status_code == 403


def test_admin_gets_404_for_unknown_and_malformed_ids(client_for, admin):
    assert client_for(admin).get("/users/" + "a" * 24).status_code == 404
    assert client_for(admin).get("/users/xyz").status_code == 404
    assert client_for(admin).get("/users/xyz").json() == {"detail": "Not found."}


def test_patch_username_and_email(client_for, user):
    body = {"username": "alice two", "email": "Alice2@Example.com", "current_password": PASSWORD}
    r = client_for(user).patch(f"/users/{user.id}/", body, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["username"] == "alice two" and r.json()["email"] == "Alice2@Example.com"
    assert User.objects.get(id=user.id).email_key == "alice2@example.com"


def test_patch_keeping_ones_own_name_is_not_a_conflict(client_for, user):
    r = client_for(user).patch(f"/users/{user.id}", {"username": "ALICE", "email": user.email}, format="json")
    assert r.status_code == 200, r.content


def test_patch_to_a_taken_name_or_email_is_409(client_for, user, other):
    r = client_for(user).patch(f"/users/{user.id}", {"username": "BOB"}, format="json")
    assert r.status_code == 409
    assert len(r.json()["suggested_usernames"]) == 5
    r = client_for(user).patch(f"/users/{user.id}", {"email": "BOB@example.com", "current_password": PASSWORD}, format="json")
    assert r.status_code == 409 and "email" in r.json()["detail"]


def test_only_an_admin_may_change_a_role(client_for, user, admin):
    assert client_for(user).patch(f"/users/{user.id}", {"role": "admin"}, format="json").status_code == 403
    assert User.objects.get(id=user.id).role == "user"
    r = client_for(admin).patch(f"/users/{user.id}", {"role": "admin"}, format="json")
    assert r.status_code == 200 and r.json()["role"] == "admin"
    event = AuditEvent.objects(action="role_change").first()
    assert event.actor_id == admin.id and event.detail == {"old": "user", "new": "admin"}


@pytest.mark.parametrize("body", [{"username": "x"}, {"email": "nope"}, {"role": "god"}, {"username": "bad/name"}])
def test_patch_invalid_input_is_400(client_for, admin, user, body):
    assert client_for(admin).patch(f"/users/{user.id}", body, format="json").status_code == 400


def test_password_change(client_for, api, user):
    r = client_for(user).post(f"/users/{user.id}/password", {"current_password": PASSWORD, "new_password": "fresh river stone"}, format="json")
    assert r.status_code == 204
    assert api.post("/login", {"email": user.email, "password": "fresh river stone"}, format="json").status_code == 200
    assert api.post("/login", {"email": user.email, "password": PASSWORD}, format="json").status_code == 401
    assert AuditEvent.objects(action="password_change", target=user.id).count() == 1


def test_password_change_needs_the_current_password(client_for, user):
    r = client_for(user).post(f"/users/{user.id}/password", {"current_password": "wrong one!", "new_password": "fresh river stone"}, format="json")
    assert r.status_code == 400 and "current_password" in r.json()


@pytest.mark.parametrize("new", ["short", "12345678901", "password123", "alice@example.com"])
def test_password_change_applies_the_validators(client_for, user, new):
    r = client_for(user).post(f"/users/{user.id}/password", {"current_password": PASSWORD, "new_password": new}, format="json")
    assert r.status_code == 400 and "new_password" in r.json()


def test_only_the_owner_changes_a_password(client_for, user, admin, other):
    body = {"current_password": PASSWORD, "new_password": "fresh river stone"}
    assert client_for(admin).post(f"/users/{user.id}/password", body, format="json").status_code == 403
    assert client_for(other).post(f"/users/{user.id}/password", body, format="json").status_code == 403


def test_an_admin_cannot_demote_themselves(client_for, admin):
    r = client_for(admin).patch(f"/users/{admin.id}", {"role": "user"}, format="json")
    assert r.status_code == 403
    assert User.objects.get(id=admin.id).role == "admin"
    assert client_for(admin).patch(f"/users/{admin.id}", {"role": "admin"}, format="json").status_code == 200
