"""Who may call what. Every endpoint that names a user answers anonymous 401, the owner success,
another user 403 and an admin success (API.md: "owner or admin"); admin-only endpoints answer
anonymous 401, a user 403, an admin 200."""
from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from accounts.users.documents import LinkedId, User
from accounts.users.linked_ids import linked_id_add
from accounts.users.passwords import user_password_change
from accounts.sessions.tokens import token_pair_for
from profiles.documents import Details
from tests.conftest import PASSWORD


def _link_id(client, uid):
    return client.post("/users/link_id", {"user_id": uid, "linked_id": "matrix-id"}, format="json")


def _add_details(client, uid):
    return client.post("/users/add_details", {"user_id": uid, "address": "1 Matrix Rd"}, format="json")


def _user_with_details(client, uid):
    return client.get(f"/users/user_with_details/{uid}")


def _delete_user(client, uid):
    return client.delete(f"/users/delete_user/{uid}")


def _retrieve(client, uid):
    return client.get(f"/users/{uid}")


def _patch(client, uid):
    return client.patch(f"/users/{uid}", {"username": "renamed"}, format="json")


def _export(client, uid):
    return client.get(f"/users/{uid}/export")


def _trash(client, uid):
    return client.delete(f"/users/{uid}?reason=matrix")


def _unlink(client, uid):
    return client.delete(f"/users/{uid}/linked_ids/existing-id")


# (name, call, success status, how to tell the call had no effect on the target user)
OWNER_OR_ADMIN = {
    "POST /users/link_id": (_link_id, 200, lambda u: LinkedId.objects(linked_id="matrix-id").count() == 0),
    "POST /users/add_details": (_add_details, 200, lambda u: Details.objects(user=u.id).count() == 0),
    "GET /users/user_with_details/{id}": (_user_with_details, 200, lambda u: True),
    "DELETE /users/delete_user/{id}": (_delete_user, 200, lambda u: User.objects(id=u.id).count() == 1),
    "GET /users/{id}": (_retrieve, 200, lambda u: True),
    "PATCH /users/{id}": (_patch, 200, lambda u: User.objects.get(id=u.id).username == "alice"),
    "GET /users/{id}/export": (_export, 200, lambda u: True),
    "DELETE /users/{id}?reason=": (_trash, 204, lambda u: User.objects.get(id=u.id).in_trash is False),
    "DELETE /users/{id}/linked_ids/{linked_id}": (_unlink, 204, lambda u: LinkedId.objects(linked_id="existing-id").count() == 1),
}
CALLERS = {"anonymous": 401, "owner": "ok", "other": 403, "admin": "ok"}


@pytest.fixture
def callers(user, other, admin):
    return {"anonymous": None, "owner": user, "other": other, "admin": admin}


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("endpoint", list(OWNER_OR_ADMIN))
def test_owner_or_admin_endpoints(client_for, user, callers, endpoint, caller):
    call, success, untouched = OWNER_OR_ADMIN[endpoint]
    linked_id_add(user=user, linked_id="existing-id")
    expected = success if CALLERS[caller] == "ok" else CALLERS[caller]

    r = call(client_for(callers[caller]), str(user.id))

    assert r.status_code == expected, f"{endpoint} as {caller}: {r.status_code} {r.content[:200]!r}"
    if expected in (401, 403):
        assert set(r.json()) == {"detail"}, r.content
        assert untouched(user), f"{endpoint} as {caller} changed something"
    if expected == 401:
        assert r["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("endpoint", list(OWNER_OR_ADMIN))
def test_a_stranger_gets_403_even_for_an_id_that_does_not_exist(client_for, other, endpoint):
    """The check comes before any lookup, so a stranger cannot probe which ids exist."""
    call, _, _ = OWNER_OR_ADMIN[endpoint]
    r = call(client_for(other), "0123456789abcdef01234567")
    assert r.status_code == 403, f"{endpoint}: {r.status_code} {r.content[:200]!r}"


@pytest.mark.parametrize("endpoint", list(OWNER_OR_ADMIN))
def test_an_unknown_id_is_404_for_an_admin(client_for, admin, endpoint):
    call, _, _ = OWNER_OR_ADMIN[endpoint]
    r = call(client_for(admin), "0123456789abcdef01234567")
    assert r.status_code == 404, f"{endpoint}: {r.status_code} {r.content[:200]!r}"
    assert set(r.json()) == {"detail"}


# --- the password: the owner only --------------------------------------------------------------
@pytest.mark.parametrize(("caller", "expected"), [("anonymous", 401), ("owner", 204), ("other", 403), ("admin", 403)])
def test_only_the_owner_changes_a_password(client_for, user, callers, caller, expected):
    r = client_for(callers[caller]).post(
        f"/users/{user.id}/password", {"current_password": PASSWORD, "new_password": "a-brand-new-passphrase"}, format="json"
    )
    assert r.status_code == expected, r.content


# --- admin only -------------------------------------------------------------------------------
ADMIN_ONLY = {
    "GET /users": lambda c: c.get("/users"),
    "GET /users/by_linked_id/{linked_id}": lambda c: c.get("/users/by_linked_id/existing-id"),
    "GET /trash": lambda c: c.get("/trash"),
}


@pytest.mark.parametrize(("caller", "expected"), [("anonymous", 401), ("owner", 403), ("other", 403), ("admin", 200)])
@pytest.mark.parametrize("endpoint", list(ADMIN_ONLY))
def test_admin_only_endpoints(client_for, user, callers, endpoint, caller, expected):
    linked_id_add(user=user, linked_id="existing-id")
    r = ADMIN_ONLY[endpoint](client_for(callers[caller]))
    assert r.status_code == expected, f"{endpoint} as {caller}: {r.status_code} {r.content[:200]!r}"


# --- what counts as anonymous ------------------------------------------------------------------
def _expired(user) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(minutes=1))  # past the JWT leeway too
    return str(token)


@pytest.mark.parametrize(
    "authorization",
    [
        lambda u: "Bearer not-a-jwt",
        lambda u: "Bearer ",
        lambda u: "Token " + str(token_pair_for(u).access_token),
        lambda u: "Bearer " + str(token_pair_for(u)),  # a refresh token is no access token
        _expired,
        lambda u: "Bearer " + str(token_pair_for(u).access_token)[:-4] + "AAAA",  # bad signature
    ],
    ids=["garbage", "empty", "wrong-scheme", "refresh-as-access", "expired", "tampered"],
)
@pytest.mark.parametrize("endpoint", ["POST /users/link_id", "GET /users/user_with_details/{id}", "DELETE /users/delete_user/{id}"])
def test_a_bad_token_is_401(api, user, authorization, endpoint):
    call, _, untouched = OWNER_OR_ADMIN[endpoint]
    api.credentials(HTTP_AUTHORIZATION=authorization(user))
    r = call(api, str(user.id))
    assert r.status_code == 401, r.content
    assert untouched(user)


def test_a_token_stops_working_when_the_password_changes(client_for, user):
    client = client_for(user)
    user_password_change(user=user, current_password=PASSWORD, new_password="a-brand-new-passphrase")
    assert client.get(f"/users/user_with_details/{user.id}").status_code == 401
