"""POST /users/link_id: 200 `{"message": "ID linked successfully", "linked_id"}`; one user may
hold several ids, one id belongs to at most one user (API.md)."""
import pytest

from accounts.users.documents import LinkedId
from accounts.users.linked_ids import linked_id_add
from accounts.admin.trash import user_trash
from common.exceptions import Conflict
from tests.helpers_http import run_together

OK = "ID linked successfully"


def link(client, user_id, linked_id, path="/users/link_id"):
    return client.post(path, {"user_id": str(user_id), "linked_id": linked_id}, format="json")


def held_by(linked_id):
    return [str(link.user.id) for link in LinkedId.objects(linked_id=linked_id)]


@pytest.mark.parametrize("path", ["/users/link_id", "/users/link_id/"])
def test_the_owner_links_an_id(client_for, user, path):
    r = link(client_for(user), user.id, "ext-42", path)

    assert r.status_code == 200, r.content
    assert r.json() == {"message": OK, "linked_id": "ext-42"}
    assert held_by("ext-42") == [str(user.id)]


def test_an_admin_links_an_id_for_a_user(client_for, user, admin):
    r = link(client_for(admin), user.id, "ext-42")

    assert r.status_code == 200, r.content
    assert r.json() == {"message": OK, "linked_id": "ext-42"}
    assert held_by("ext-42") == [str(user.id)]


def test_another_user_may_not_link_an_id_to_someone(client_for, user, other):
    r = link(client_for(other), user.id, "ext-42")

    assert r.status_code == 403
    assert set(r.json()) == {"detail"}
    assert LinkedId.objects.count() == 0


def test_anonymous_is_401(api, user):
    r = link(api, user.id, "ext-42")
    assert r.status_code == 401 and set(r.json()) == {"detail"}
    assert LinkedId.objects.count() == 0


# --- the rules of a linked id -----------------------------------------------------------------
@pytest.mark.parametrize("linked_id", ["a", "x" * 128, "user@example.com", "urn:ext:42", "A.b_c-d", "0123456789"])
def test_valid_linked_ids(client_for, user, linked_id):
    r = link(client_for(user), user.id, linked_id)
    assert r.status_code == 200, r.content
    assert r.json()["linked_id"] == linked_id
    assert held_by(linked_id) == [str(user.id)]


@pytest.mark.parametrize(
    "linked_id", ["", "x" * 129, "has space", "slash/x", "back\\slash", "ünï", "semi;colon", "a\x00b", "tab\tx", "$where", "{}", "a#b", "q?x"]
)
def test_invalid_linked_ids_are_400_on_linked_id(client_for, user, linked_id):
    r = link(client_for(user), user.id, linked_id)
    assert r.status_code == 400, r.content
    assert list(r.json()) == ["linked_id"]
    assert LinkedId.objects.count() == 0


@pytest.mark.parametrize("linked_id", [["ext-1"], {"id": "ext-1"}, None, True])
def test_a_linked_id_that_is_not_a_string_is_400(client_for, user, linked_id):
    r = client_for(user).post("/users/link_id", {"user_id": str(user.id), "linked_id": linked_id}, format="json")
    assert r.status_code == 400, r.content
    assert list(r.json()) == ["linked_id"]


@pytest.mark.parametrize("missing", ["user_id", "linked_id"])
def test_both_fields_are_required(client_for, user, missing):
    body = {"user_id": str(user.id), "linked_id": "ext-42"}
    del body[missing]
    r = client_for(user).post("/users/link_id", body, format="json")
    assert r.status_code == 400
    assert r.json() == {missing: ["This field is required."]}


# --- one id, one user; one user, several ids ----------------------------------------------------
def test_linking_the_same_id_again_to_the_same_user_is_200_and_stores_it_once(client_for, user):
    client = client_for(user)
    first = link(client, user.id, "ext-42")
    again = link(client, user.id, "ext-42")

    assert first.status_code == again.status_code == 200, again.content
    assert again.json() == {"message": OK, "linked_id": "ext-42"}
    assert LinkedId.objects(linked_id="ext-42").count() == 1


def test_an_id_held_by_another_user_is_409_and_stays_theirs(client_for, user, other, admin):
    assert link(client_for(other), other.id, "ext-42").status_code == 200

    for caller in (user, admin):
        r = link(client_for(caller), user.id, "ext-42")
        assert r.status_code == 409, r.content
        assert set(r.json()) == {"detail"} and r.json()["detail"]
    assert held_by("ext-42") == [str(other.id)]


def test_linked_ids_are_case_sensitive_values(client_for, user, other):
    assert link(client_for(other), other.id, "Ext-42").status_code == 200
    assert link(client_for(user), user.id, "ext-42").status_code == 200
    assert held_by("Ext-42") == [str(other.id)] and held_by("ext-42") == [str(user.id)]


def test_a_user_holds_several_ids(client_for, user):
    client = client_for(user)
    for linked_id in ("ext-1", "ext-2", "ext-3"):
        assert link(client, user.id, linked_id).status_code == 200

    assert sorted(link.linked_id for link in LinkedId.objects(user=user.id)) == ["ext-1", "ext-2", "ext-3"]
    joined = client.get(f"/users/user_with_details/{user.id}").json()["user"]
    assert joined["linked_ids"] == ["ext-1", "ext-2", "ext-3"]
    assert joined["linked_id"] == "ext-3"


def test_relinking_an_older_id_keeps_one_copy(client_for, user):
    client = client_for(user)
    for linked_id in ("ext-1", "ext-2", "ext-1"):
        assert link(client, user.id, linked_id).status_code == 200
    assert LinkedId.objects(user=user.id).count() == 2


# --- the user named -----------------------------------------------------------------------------
def test_an_unknown_user_is_404_for_an_admin(client_for, admin):
    r = link(client_for(admin), "0123456789abcdef01234567", "ext-42")
    assert r.status_code == 404 and set(r.json()) == {"detail"}
    assert LinkedId.objects.count() == 0


@pytest.mark.parametrize("user_id", ["abc", "not-an-object-id", "0" * 25, "zzzzzzzzzzzzzzzzzzzzzzzz", 12345])
def test_a_malformed_user_id_is_404_for_an_admin(client_for, admin, user_id):
    r = client_for(admin).post("/users/link_id", {"user_id": user_id, "linked_id": "ext-42"}, format="json")
    assert r.status_code == 404, r.content
    assert set(r.json()) == {"detail"}


def test_a_trashed_user_cannot_link_with_their_old_token(client_for, user, admin):
    client = client_for(user)
    user_trash(user=user, actor=admin, reason="test")

    assert link(client, user.id, "ext-42").status_code == 401
    assert LinkedId.objects.count() == 0


# --- services ---------------------------------------------------------------------------------
def test_service_relink_returns_the_existing_link(user):
    first = linked_id_add(user=user, linked_id="ext-42")
    again = linked_id_add(user=user, linked_id="ext-42")
    assert first.id == again.id


def test_service_refuses_an_id_held_by_another(user, other):
    linked_id_add(user=other, linked_id="ext-42")
    with pytest.raises(Conflict):
        linked_id_add(user=user, linked_id="ext-42")


def test_parallel_links_of_one_id_to_different_users_leave_one_holder(make_user):
    users = [make_user() for _ in range(8)]

    results = run_together(lambda u: linked_id_add(user=u, linked_id="contested"), users)

    winners = [r for r in results if isinstance(r, LinkedId)]
    assert len(winners) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 7, results
    assert LinkedId.objects(linked_id="contested").count() == 1
