"""The passkey endpoints over HTTP (DRF's APIClient), with the software authenticator."""
import pytest

from accounts.users.documents import User
from accounts.mfa.passkeys.documents import Passkey
from tests.conftest import PASSWORD


def _add(client, user, authenticator, name="laptop"):
    options = client.post(f"/users/{user.id}/passkeys/options", {"current_password": PASSWORD}, format="json")
    assert options.status_code == 200, options.data
    credential = authenticator.create(options.data["publicKey"])
    return client.post(f"/users/{user.id}/passkeys", {"ceremony": options.data["ceremony"], "credential": credential, "name": name}, format="json")


def _sign_in(api, authenticator, email=None, **kwargs):
    options = api.post("/auth/passkey/options", {"email": email} if email else {}, format="json")
    assert options.status_code == 200, options.data
    credential = authenticator.get(options.data["publicKey"], **kwargs)
    return api.post("/auth/passkey", {"ceremony": options.data["ceremony"], "credential": credential}, format="json"), credential


def test_add_list_rename_remove_and_sign_in(api, user, client_for, authenticator):
    client = client_for(user)
    added = _add(client, user, authenticator)
    assert added.status_code == 201 and set(added.data) == {"id", "name", "created_at", "last_used_at"}
    assert added.data["name"] == "laptop" and added.data["last_used_at"] is None
    assert client.get(f"/users/{user.id}").data["passkeys_count"] == 1

    response, _ = _sign_in(api, authenticator)
    assert response.status_code == 200 and response.data["message"] == "Login successful"
    assert response.data["user_id"] == str(user.id) and response.data["access"] and response.data["refresh"]
    me = client_for(None)
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {response.data['access']}")
    assert me.get("/users/me").status_code == 200
    sessions = me.get(f"/users/{user.id}/sessions").data
    assert any(s["current"] for s in sessions)  # a session like a password login's

    listed = client.get(f"/users/{user.id}/passkeys/")
    assert listed.status_code == 200 and [p["id"] for p in listed.data] == [added.data["id"]] and listed.data[0]["last_used_at"]
    renamed = client.patch(f"/users/{user.id}/passkeys/{added.data['id']}", {"name": "work"}, format="json")
    assert renamed.status_code == 200 and renamed.data["name"] == "work"
    assert client.delete(f"/users/{user.id}/passkeys/{added.data['id']}/").status_code == 204
    assert client.get(f"/users/{user.id}/passkeys").data == []


def test_registration_needs_the_password(user, client_for):
    response = client_for(user).post(f"/users/{user.id}/passkeys/options", {"current_password": "wrong"}, format="json")
    assert response.status_code == 400 and "current_password" in response.data


def test_who_may_do_what(user, other, admin, client_for, authenticator):
    added = _add(client_for(user), user, authenticator).data
    # A stranger: 403 everywhere.
    stranger = client_for(other)
    assert stranger.get(f"/users/{user.id}/passkeys").status_code == 403
    assert stranger.delete(f"/users/{user.id}/passkeys/{added['id']}").status_code == 403
    assert stranger.post(f"/users/{user.id}/passkeys/options", {"current_password": PASSWORD}, format="json").status_code == 403
    # Anonymous: 401.
    assert client_for(None).get(f"/users/{user.id}/passkeys").status_code == 401
    # An admin lists and removes, but adds and renames nothing.
    boss = client_for(admin)
    assert [p["id"] for p in boss.get(f"/users/{user.id}/passkeys").data] == [added["id"]]
    assert boss.post(f"/users/{user.id}/passkeys/options", {"current_password": PASSWORD}, format="json").status_code == 403
    assert boss.patch(f"/users/{user.id}/passkeys/{added['id']}", {"name": "x"}, format="json").status_code == 403
    assert boss.delete(f"/users/{user.id}/passkeys/{added['id']}").status_code == 204
    # Another user's passkey id under one's own account: 404.
    _add(client_for(user), user, authenticator)
    theirs = Passkey.objects.get(user=user.id)
    assert client_for(other).delete(f"/users/{other.id}/passkeys/{theirs.id}").status_code == 404


def test_replayed_wrong_origin_and_malformed_answers_are_400(api, user, client_for, authenticator):
    _add(client_for(user), user, authenticator)
    response, credential = _sign_in(api, authenticator)
    assert response.status_code == 200
    options = api.post("/auth/passkey/options", {}, format="json").data
    replayed = api.post("/auth/passkey", {"ceremony": options["ceremony"], "credential": credential}, format="json")
    assert replayed.status_code == 400 and "credential" in replayed.data
    response, _ = _sign_in(api, authenticator, origin="http://localhost:9999")
    assert response.status_code == 400 and "origin" in response.data["credential"][0]
    for bad in ({}, {"ceremony": "x"}, {"ceremony": "x", "credential": "text"}, {"ceremony": "x", "credential": {"id": "!"}},
                {"ceremony": "x" * 500, "credential": credential}):
        assert api.post("/auth/passkey", bad, format="json").status_code == 400
    garbage = {**credential, "response": {**credential["response"], "authenticatorData": "AAAA", "signature": "AAAA"}}
    options = api.post("/auth/passkey/options", {}, format="json").data
    response = api.post("/auth/passkey", {"ceremony": options["ceremony"], "credential": garbage}, format="json")
    assert response.status_code == 400


def test_the_last_way_in_cannot_be_removed(user, client_for, authenticator):
    from django.contrib.auth.hashers import make_password

    added = _add(client_for(user), user, authenticator).data
    User._get_collection().update_one({"_id": user.id}, {"$set": {"password": make_password(None)}})
    response = client_for(user).delete(f"/users/{user.id}/passkeys/{added['id']}")
    assert response.status_code == 409 and "last way" in response.data["detail"]


def test_with_an_email_the_answers_look_alike(api, user, client_for, authenticator):
    _add(client_for(user), user, authenticator)
    known = api.post("/auth/passkey/options", {"email": "alice@example.com"}, format="json")
    unknown = api.post("/auth/passkey/options", {"email": "nobody@example.com"}, format="json")
    assert known.status_code == unknown.status_code == 200
    assert set(known.data["publicKey"]) == set(unknown.data["publicKey"])
    assert len(known.data["publicKey"]["allowCredentials"]) >= 1 and len(unknown.data["publicKey"]["allowCredentials"]) >= 1
    response, _ = _sign_in(api, authenticator, email="alice@example.com")
    assert response.status_code == 200


@pytest.mark.parametrize("body", [{}, {"mfa_token": "not-a-token"}])
def test_mfa_options_need_a_pending_mfa_token(api, body):
    response = api.post("/auth/mfa/webauthn/options", body, format="json")
    assert response.status_code in (400, 401)
