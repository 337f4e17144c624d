"""GET /users/user_with_details/{user_id}: the join, exactly
`{"user": {"_id", "username", "email", "role", "linked_id", "linked_ids", "created_at"},
  "details": {"_id", "user_id", "address", "phone", "preferences"} or null}` (API.md)."""
from datetime import datetime, timedelta, timezone

import pytest

from accounts.users.linked_ids import linked_id_add, linked_id_remove
from accounts.admin.trash import user_trash
from profiles import services as profile_services
from profiles.documents import Details
from tests.conftest import PASSWORD
from tests.helpers_http import assert_no_password_material

USER_KEYS = {"_id", "username", "email", "role", "email_verified", "linked_id", "linked_ids", "created_at"}
DETAILS_KEYS = {"_id", "user_id", "address", "phone", "preferences"}


def join(client, user_id, slash=""):
    return client.get(f"/users/user_with_details/{user_id}{slash}")


@pytest.mark.parametrize("slash", ["", "/"])
def test_a_user_without_links_or_details(client_for, user, slash):
    r = join(client_for(user), user.id, slash)

    assert r.status_code == 200, r.content
    body = r.json()
    assert set(body) == {"user", "details"}
    assert set(body["user"]) == USER_KEYS
    assert body["details"] is None
    assert {k: v for k, v in body["user"].items() if k != "created_at"} == {
        "_id": str(user.id),
        "username": "alice",
        "email": "alice@example.com",
        "role": "user",
        "email_verified": False,
        "linked_id": None,
        "linked_ids": [],
    }


def test_created_at_is_an_iso_timestamp_of_the_registration(client_for, user):
    created_at = join(client_for(user), user.id).json()["user"]["created_at"]
    parsed = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None
    assert abs(parsed - datetime.now(timezone.utc)) < timedelta(minutes=5)
    assert abs(parsed - user.created_at.astimezone(timezone.utc)) < timedelta(milliseconds=2)


def test_the_full_join(client_for, user):
    for linked_id in ("ext-1", "ext-2", "ext-3"):
        linked_id_add(user=user, linked_id=linked_id)
    profile_services.details_upsert(user=user, address="1 Main St", phone="+919876543210", preferences={"theme": "dark", "n": 3})

    body = join(client_for(user), user.id).json()

    assert set(body["user"]) == USER_KEYS
    assert body["user"]["linked_ids"] == ["ext-1", "ext-2", "ext-3"]
    assert body["user"]["linked_id"] == "ext-3"
    assert set(body["details"]) == DETAILS_KEYS
    details_id = str(Details.objects.get(user=user.id).id)
    assert body["details"] == {
        "_id": details_id,
        "user_id": str(user.id),
        "address": "1 Main St",
        "phone": "+919876543210",
        "preferences": {"theme": "dark", "n": 3},
    }


def test_linked_id_is_the_most_recent_one_even_after_an_unlink(client_for, user):
    client = client_for(user)
    for linked_id in ("first", "second"):
        linked_id_add(user=user, linked_id=linked_id)
    assert join(client, user.id).json()["user"]["linked_id"] == "second"

    linked_id_remove(user=user, linked_id="second")
    body = join(client, user.id).json()["user"]
    assert body["linked_id"] == "first" and body["linked_ids"] == ["first"]

    linked_id_add(user=user, linked_id="third")
    assert join(client, user.id).json()["user"]["linked_id"] == "third"


def test_details_with_some_fields_render_the_rest_as_null(client_for, user):
    profile_services.details_upsert(user=user, phone="+14155550123")
    details = join(client_for(user), user.id).json()["details"]
    assert details["address"] is None and details["phone"] == "+14155550123" and details["preferences"] == {}


def test_the_join_holds_only_this_users_data(client_for, user, other):
    linked_id_add(user=other, linked_id="bobs-id")
    profile_services.details_upsert(user=other, address="Bob's house")

    body = join(client_for(user), user.id).json()

    assert body["user"]["linked_ids"] == [] and body["details"] is None


def test_an_admin_reads_anyone(client_for, user, admin):
    r = join(client_for(admin), user.id)
    assert r.status_code == 200 and r.json()["user"]["_id"] == str(user.id)


def test_an_admins_own_join_says_admin(client_for, admin):
    assert join(client_for(admin), admin.id).json()["user"]["role"] == "admin"


def test_another_user_is_403(client_for, user, other):
    r = join(client_for(other), user.id)
    assert r.status_code == 403 and set(r.json()) == {"detail"}
    assert "alice" not in r.content.decode()


def test_anonymous_is_401(api, user):
    r = join(api, user.id)
    assert r.status_code == 401 and set(r.json()) == {"detail"}


def test_unknown_is_404_for_an_admin(client_for, admin):
    r = join(client_for(admin), "0123456789abcdef01234567")
    assert r.status_code == 404 and set(r.json()) == {"detail"}


def test_a_trashed_user_is_seen_by_an_admin_and_their_own_token_fails(client_for, user, admin):
    own = client_for(user)
    user_trash(user=user, actor=admin, reason="test")

    assert join(own, user.id).status_code == 401
    r = join(client_for(admin), user.id)
    assert r.status_code == 200 and r.json()["user"]["_id"] == str(user.id)


def test_no_password_or_hash_in_the_join(client_for, user):
    linked_id_add(user=user, linked_id="ext-1")
    profile_services.details_upsert(user=user, address="1 Main St")
    r = join(client_for(user), user.id)
    assert_no_password_material(r, extra=(PASSWORD, user.password))


@pytest.mark.parametrize("path", ["/users/user_with_details/{id}", "/users/me"])
def test_read_with_authentication_the_join_is_the_same_bytes_as_an_admins_read(client_for, user, admin, path):
    # The caller's own join comes with authentication's round trip; an admin's read of the same
    # user runs the join on its own. Both must render the very same response.
    linked_id_add(user=user, linked_id="crm:1")
    profile_services.details_upsert(user=user, address="1 Main St", phone="+15551234567", preferences={"n": 1.5, "s": "x\u2028y"})
    own = client_for(user).get(path.format(id=user.id))
    by_admin = client_for(admin).get(f"/users/user_with_details/{user.id}")
    assert own.status_code == by_admin.status_code == 200, (own.content, by_admin.content)
    assert own.content == by_admin.content


def test_an_admin_reading_another_user_gets_that_user_not_themselves(client_for, user, admin):
    linked_id_add(user=admin, linked_id="admin-own")
    body = client_for(admin).get(f"/users/user_with_details/{user.id}").json()
    assert body["user"]["_id"] == str(user.id)
    assert body["user"]["linked_ids"] == []
