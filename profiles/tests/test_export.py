"""GET /users/{user_id}/export: everything stored about the user, from every collection."""
from accounts.users.linked_ids import linked_id_add
from accounts.sessions.tokens import token_pair_for, token_revoke
from accounts.user_data.services import user_dependents
from profiles.services import details_upsert
from tests.two_factor_helpers import enrol


def test_export_holds_every_collection_and_no_password(client_for, user, admin):
    linked_id_add(user=user, linked_id="ext-9")
    details_upsert(user=user, address="Main St 1", preferences={"lang": "en"})
    token_revoke(raw_refresh=str(token_pair_for(user)))
    secret, codes = enrol(user)
    r = client_for(user).get(f"/users/{user.id}/export")
    assert r.status_code == 200
    body = r.json()
    assert body["user"]["_id"] == str(user.id) and body["user"]["email"] == user.email
    assert "password" not in body["user"] and "argon2" not in r.content.decode() and "md5$" not in r.content.decode()
    collections = body["collections"]
    assert collections["linked_ids"][0]["linked_id"] == "ext-9"
    assert collections["details"][0]["address"] == "Main St 1"
    # The live session (of this request's token) is there; the logged-out one is not.
    assert len(collections["sessions"]) == 1 and "refresh_jti" not in collections["sessions"][0]
    assert [str(i) for i in body["user"]["session_ids"]] == [collections["sessions"][0]["_id"]]
    # Whether TOTP is on, and never the secret or the recovery codes (not even hashed).
    assert body["user"]["mfa_enabled"] is True and collections["mfa_totp"][0]["confirmed"] is True
    assert set(collections["mfa_totp"][0]) == {"_id", "user", "confirmed", "created_at", "confirmed_at"}
    assert secret not in r.content.decode() and not any(code in r.content.decode() for code in codes)
    assert any(e["action"] == "logout" for e in collections["audit_events"])
    declared = {cls._get_collection_name() for cls, _ in user_dependents()}
    assert set(collections) <= declared


def test_export_matrix(client_for, user, other, admin):
    assert client_for(admin).get(f"/users/{user.id}/export").status_code == 200
    assert client_for(other).get(f"/users/{user.id}/export").status_code == 403
    assert client_for(None).get(f"/users/{user.id}/export").status_code == 401
    assert client_for(admin).get("/users/" + "f" * 24 + "/export").status_code == 404
