"""POST /users/add_details: 200 `{"message": "Details added/updated successfully"}`; creates the
details or updates the fields given, keeping the others (API.md)."""
import json

import pytest

from accounts.users.documents import User
from profiles import services
from profiles.documents import Details
from tests.helpers_http import run_together

OK = {"message": "Details added/updated successfully"}


def add(client, user_id, path="/users/add_details", **fields):
    return client.post(path, {"user_id": str(user_id), **fields}, format="json")


def add_raw(client, raw: str):
    return client.post("/users/add_details", data=raw, content_type="application/json")


def stored(user) -> dict:
    doc = Details._get_collection().find_one({"user": user.id})
    return {k: doc.get(k) for k in ("address", "phone", "preferences")} if doc else None


def joined_details(client, user) -> dict:
    r = client.get(f"/users/user_with_details/{user.id}")
    assert r.status_code == 200, r.content
    return r.json()["details"]


# --- create and update ------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/users/add_details", "/users/add_details/"])
def test_the_owner_creates_details(client_for, user, path):
    r = add(client_for(user), user.id, path, address="1 Main St", phone="+919876543210", preferences={"theme": "dark"})

    assert r.status_code == 200, r.content
    assert r.json() == OK
    assert stored(user) == {"address": "1 Main St", "phone": "+919876543210", "preferences": {"theme": "dark"}}


def test_an_admin_adds_details_for_a_user(client_for, user, admin):
    r = add(client_for(admin), user.id, address="2 Admin Rd")
    assert r.status_code == 200 and r.json() == OK
    assert stored(user)["address"] == "2 Admin Rd"


def test_another_user_may_not_and_nothing_is_stored(client_for, user, other):
    r = add(client_for(other), user.id, address="hijacked")
    assert r.status_code == 403 and set(r.json()) == {"detail"}
    assert Details.objects.count() == 0


def test_anonymous_is_401(api, user):
    r = add(api, user.id, address="x")
    assert r.status_code == 401 and set(r.json()) == {"detail"}
    assert Details.objects.count() == 0


def test_a_partial_update_keeps_the_fields_not_given(client_for, user):
    client = client_for(user)
    assert add(client, user.id, address="1 Main St", phone="+919876543210", preferences={"theme": "dark"}).status_code == 200

    assert add(client, user.id, phone="+14155550123").status_code == 200
    assert stored(user) == {"address": "1 Main St", "phone": "+14155550123", "preferences": {"theme": "dark"}}

    assert add(client, user.id, address="2 Side St").status_code == 200
    assert stored(user) == {"address": "2 Side St", "phone": "+14155550123", "preferences": {"theme": "dark"}}

    assert add(client, user.id, preferences={"lang": "en"}).status_code == 200
    assert stored(user) == {"address": "2 Side St", "phone": "+14155550123", "preferences": {"lang": "en"}}
    assert Details.objects(user=user.id).count() == 1


def test_only_a_user_id_creates_empty_details(client_for, user):
    client = client_for(user)
    assert add(client, user.id).status_code == 200
    assert joined_details(client, user) | {"_id": None} == {
        "_id": None,
        "user_id": str(user.id),
        "address": None,
        "phone": None,
        "preferences": {},
    }


def test_null_clears_a_field(client_for, user):
    client = client_for(user)
    add(client, user.id, address="1 Main St", phone="+919876543210")
    assert add(client, user.id, address=None, phone=None).status_code == 200
    details = joined_details(client, user)
    assert details["address"] is None and details["phone"] is None


def test_unknown_fields_are_ignored(client_for, user):
    client = client_for(user)
    r = add(client, user.id, address="1 Main St", user=str(user.id), role="admin", _id="0" * 24)
    assert r.status_code == 200, r.content
    assert User.objects.get(id=user.id).role == "user"
    doc = Details._get_collection().find_one({"user": user.id})
    assert set(doc) <= {"_id", "user", "address", "phone", "preferences", "created_at", "updated_at", "version"}


# --- phone ------------------------------------------------------------------------------------
@pytest.mark.parametrize("phone", ["+1234567", "+919876543210", "+123456789012345", "+14155550123"])
def test_phone_in_e164_form_is_accepted(client_for, user, phone):
    assert add(client_for(user), user.id, phone=phone).status_code == 200
    assert stored(user)["phone"] == phone


@pytest.mark.parametrize(
    "phone",
    ["9876543210", "+123456", "+1234567890123456", "+91 98765 43210", "+91-98765-43210", "++919876543210", "+abc1234567", "", "+", "＋919876543210", 919876543210],
)
def test_phone_not_in_e164_form_is_400(client_for, user, phone):
    r = add(client_for(user), user.id, phone=phone)
    assert r.status_code == 400, r.content
    assert list(r.json()) == ["phone"]
    assert Details.objects.count() == 0


# --- preferences ------------------------------------------------------------------------------
def test_scalar_preferences_round_trip_exactly(client_for, user):
    client = client_for(user)
    preferences = {
        "s": "dark",
        "empty": "",
        "i": 42,
        "neg": -7,
        "f": 1.5,
        "t": True,
        "b": False,
        "n": None,
        "max": 2**63 - 1,
        "min": -(2**63),
        "unicode": "日本語 ✓",
    }
    assert add(client, user.id, preferences=preferences).status_code == 200
    assert joined_details(client, user)["preferences"] == preferences


def test_fifty_keys_are_allowed_and_fifty_one_are_not(client_for, user):
    client = client_for(user)
    fifty = {f"k{n}": n for n in range(50)}
    assert add(client, user.id, preferences=fifty).status_code == 200

    r = add(client, user.id, preferences={**fifty, "k50": 50})
    assert r.status_code == 400, r.content
    assert list(r.json()) == ["preferences"]
    assert stored(user)["preferences"] == fifty


@pytest.mark.parametrize(
    "value", [{"nested": 1}, [1, 2], [], {}, 2**63, -(2**63) - 1, 10**30, "x" * 1001, "nul\x00"]
)
def test_nested_huge_or_oversized_values_are_400(client_for, user, value):
    r = add(client_for(user), user.id, preferences={"key": value})
    assert r.status_code == 400, r.content
    assert list(r.json()) == ["preferences"]
    assert Details.objects.count() == 0


@pytest.mark.parametrize("raw_number", ["1e400", "-1e400", "1" + "0" * 400])
def test_numbers_beyond_what_json_or_mongodb_hold_are_400(client_for, user, raw_number):
    """1e400 parses as infinity: stored, it would make every later read of the user a 500."""
    client = client_for(user)
    r = add_raw(client, '{"user_id": "%s", "preferences": {"big": %s}}' % (user.id, raw_number))

    assert r.status_code == 400, r.content
    assert Details.objects.count() == 0
    assert client.get(f"/users/user_with_details/{user.id}").status_code == 200
    assert client.get("/users/me").status_code == 200


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_json_constants_are_400(client_for, user, literal):
    r = add_raw(client_for(user), '{"user_id": "%s", "preferences": {"x": %s}}' % (user.id, literal))
    assert r.status_code == 400, r.content
    assert Details.objects.count() == 0


@pytest.mark.parametrize("key", ["$where", "a.b", "", "k" * 65])
def test_keys_mongodb_would_misread_are_400(client_for, user, key):
    r = add(client_for(user), user.id, preferences={key: 1})
    assert r.status_code == 400, r.content
    assert list(r.json()) == ["preferences"]


@pytest.mark.parametrize("preferences", ["dark", [["a", 1]], 5, True])
def test_preferences_that_are_not_an_object_are_400(client_for, user, preferences):
    r = add(client_for(user), user.id, preferences=preferences)
    assert r.status_code == 400, r.content
    assert list(r.json()) == ["preferences"]


def test_an_overlong_address_is_400(client_for, user):
    r = add(client_for(user), user.id, address="x" * 501)
    assert r.status_code == 400 and list(r.json()) == ["address"]


# --- the user named ---------------------------------------------------------------------------
def test_an_unknown_user_is_404_for_an_admin(client_for, admin):
    r = add(client_for(admin), "0123456789abcdef01234567", address="x")
    assert r.status_code == 404 and set(r.json()) == {"detail"}
    assert Details.objects.count() == 0


def test_user_id_is_required(client_for, user):
    r = client_for(user).post("/users/add_details", {"address": "x"}, format="json")
    assert r.status_code == 400 and r.json() == {"user_id": ["This field is required."]}


# --- services ---------------------------------------------------------------------------------
def test_concurrent_first_writes_leave_one_details_document(user):
    results = run_together(lambda n: services.details_upsert(user=user, address=f"address {n}"), list(range(8)))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Details.objects(user=user.id).count() == 1
    assert stored(user)["address"].startswith("address ")


def test_stored_details_are_json_safe(client_for, user):
    client = client_for(user)
    add(client, user.id, address="1 Main St", preferences={"a": 1.25})
    r = client.get(f"/users/user_with_details/{user.id}")
    assert json.loads(r.content)["details"]["preferences"] == {"a": 1.25}
