"""GET /users (admin), GET /users/by_linked_id/{linked_id}, DELETE /users/{id}/linked_ids/{linked_id}."""
import pytest

from accounts.users.linked_ids import linked_id_add
from accounts.admin.trash import user_trash


@pytest.fixture
def people(make_user):
    return [make_user(f"member {n:02d}", f"member{n:02d}@corp.example") for n in range(25)]


def test_listing_envelope_and_paging(client_for, admin, people):
    r = client_for(admin).get("/users?page=2&per_page=10")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"total", "page", "per_page", "has_next", "has_previous", "data"}
    assert (body["total"], body["page"], body["per_page"], body["has_next"], body["has_previous"]) == (26, 2, 10, True, True)
    assert len(body["data"]) == 10
    last = client_for(admin).get("/users/?page=3&per_page=10").json()
    assert len(last["data"]) == 6 and last["has_next"] is False
    beyond = client_for(admin).get("/users?page=9").json()
    assert beyond["data"] == [] and beyond["has_next"] is False


def test_listing_order_is_stable_and_covers_everyone_once(client_for, admin, people):
    seen = []
    for page in (1, 2, 3):
        seen += [u["id"] for u in client_for(admin).get(f"/users?page={page}&per_page=10").json()["data"]]
    assert len(seen) == len(set(seen)) == 26


@pytest.mark.parametrize("query", ["per_page=0", "per_page=31", "page=0", "page=-1", "page=abc", "per_page=1.5"])
def test_out_of_range_parameters_are_400(client_for, admin, query):
    assert client_for(admin).get(f"/users?{query}").status_code == 400


def test_search_matches_part_of_username_or_email_ignoring_case(client_for, admin, people, make_user):
    make_user("Zed Special", "zed@other.example")
    assert [u["username"] for u in client_for(admin).get("/users?q=SPECIAL").json()["data"]] == ["Zed Special"]
    assert client_for(admin).get("/users?q=OTHER.EXAMPLE").json()["total"] == 1
    assert client_for(admin).get("/users?q=member 1").json()["total"] == 10


@pytest.mark.parametrize("q", ["(", ".*", "[", "\\", "$where", "a|b"])
def test_search_text_is_plain_not_a_regex(client_for, admin, people, q):
    r = client_for(admin).get("/users", {"q": q})
    assert r.status_code == 200
    assert r.json()["total"] == 0


def test_listing_leaves_trashed_users_out(client_for, admin, people):
    user_trash(user=people[0], actor=admin, reason="spam")
    body = client_for(admin).get("/users?per_page=30").json()
    assert body["total"] == 25
    assert str(people[0].id) not in [u["id"] for u in body["data"]]


def test_listing_is_for_admins_only(client_for, user):
    assert client_for(user).get("/users").status_code == 403
    assert client_for(None).get("/users").status_code == 401


def test_listing_costs_few_round_trips_whatever_the_page(client_for, admin, people, round_trips):
    client = client_for(admin)
    with round_trips() as small:
        client.get("/users?per_page=2")
    with round_trips() as large:
        client.get("/users?per_page=30")
    assert small.count == large.count <= 4, (small.commands, large.commands)


def test_by_linked_id(client_for, admin, user):
    linked_id_add(user=user, linked_id="crm:42")
    r = client_for(admin).get("/users/by_linked_id/crm:42")
    assert r.status_code == 200 and r.json()["id"] == str(user.id) and r.json()["linked_ids"] == ["crm:42"]
    assert client_for(admin).get("/users/by_linked_id/nobody").status_code == 404
    assert client_for(user).get("/users/by_linked_id/crm:42").status_code == 403


def test_unlink(client_for, user, other, admin):
    linked_id_add(user=user, linked_id="a-1")
    linked_id_add(user=user, linked_id="a-2")
    assert client_for(other).delete(f"/users/{user.id}/linked_ids/a-1").status_code == 403
    assert client_for(user).delete(f"/users/{user.id}/linked_ids/a-1").status_code == 204
    assert client_for(user).delete(f"/users/{user.id}/linked_ids/a-1/").status_code == 404
    assert client_for(admin).get(f"/users/{user.id}").json()["linked_ids"] == ["a-2"]
    # The id is free again for someone else.
    assert client_for(other).post("/users/link_id", {"user_id": str(other.id), "linked_id": "a-1"}, format="json").status_code == 200
