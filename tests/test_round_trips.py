"""Database round trips of the seed endpoints, counted at the driver boundary (tests/roundtrips.py),
so the figures hold for mongomock and a real MongoDB alike. Run with `-s` to see them.

Budgets (issue 2): register <= 3, login <= 3, user_with_details <= 3, and the chain delete costs
the same whatever the number of documents the user has."""
import pytest

from accounts.services.linked_ids import linked_id_add
from accounts.services.user_data import users_chain_delete
from profiles import services as profile_services
from tests.conftest import PASSWORD


@pytest.fixture
def warm(api):
    """MongoEngine creates indexes on a collection's first use; keep that out of the counts."""
    api.get("/health")
    return api


def measure(round_trips, label, call):
    with round_trips() as n:
        response = call()
    print(f"\n{label}: {n.count} round trips {n.commands}")
    return response, n


def test_register_costs_at_most_3(warm, round_trips):
    body = {"username": "newbie", "email": "newbie@example.com", "password": PASSWORD}
    r, n = measure(round_trips, "register", lambda: warm.post("/users/register", body, format="json"))
    assert r.status_code == 201, r.content
    assert n.count <= 3, f"register: {n.count} round trips {n.commands}"


def test_login_costs_at_most_3(warm, user, round_trips):
    body = {"email": "alice@example.com", "password": PASSWORD}
    r, n = measure(round_trips, "login", lambda: warm.post("/login", body, format="json"))
    assert r.status_code == 200, r.content
    assert n.count <= 3, f"login: {n.count} round trips {n.commands}"


def test_user_with_details_costs_at_most_3_whatever_the_number_of_linked_ids(warm, client_for, make_user, round_trips):
    figures = {}
    for links in (0, 1, 20):
        person = make_user()
        for k in range(links):
            linked_id_add(user=person, linked_id=f"{person.username}-{k}")
        profile_services.details_upsert(user=person, address="somewhere", preferences={"a": 1})
        client = client_for(person)
        r, n = measure(round_trips, f"user_with_details ({links} linked ids)", lambda: client.get(f"/users/user_with_details/{person.id}"))
        assert r.status_code == 200 and len(r.json()["user"]["linked_ids"]) == links
        figures[links] = (n.count, n.commands)

    assert all(count <= 3 for count, _ in figures.values()), f"user_with_details: {figures}"
    assert len({count for count, _ in figures.values()}) == 1, f"user_with_details depends on the linked ids: {figures}"


def _loaded_user(make_user, api, *, links: int):
    person = make_user()
    for k in range(links):
        linked_id_add(user=person, linked_id=f"{person.username}-{k}")
    profile_services.details_upsert(user=person, address="somewhere")
    api.post("/login", {"email": person.email, "password": "wrong-password-here"}, format="json")
    return person


def test_delete_user_costs_the_same_for_1_and_20_linked_ids(warm, client_for, make_user, round_trips):
    figures = {}
    for links in (1, 20):
        person = _loaded_user(make_user, warm, links=links)
        client = client_for(person)
        r, n = measure(round_trips, f"delete_user ({links} linked ids)", lambda: client.delete(f"/users/delete_user/{person.id}"))
        assert r.status_code == 200, r.content
        figures[links] = (n.count, n.commands)

    assert figures[1][0] == figures[20][0], f"delete_user: 1 linked id {figures[1]}, 20 linked ids {figures[20]}"
    assert figures[1][1] == figures[20][1]


def test_delete_user_costs_the_same_for_a_bare_user_and_a_full_one(warm, client_for, make_user, round_trips):
    bare = make_user()
    full = _loaded_user(make_user, warm, links=20)
    figures = {}
    for label, person in (("bare", bare), ("full", full)):
        client = client_for(person)
        r, n = measure(round_trips, f"delete_user ({label})", lambda: client.delete(f"/users/delete_user/{person.id}"))
        assert r.status_code == 200, r.content
        figures[label] = n.count

    assert figures["bare"] == figures["full"], f"delete_user: {figures}"


def test_the_chain_delete_service_costs_the_same_for_2_and_20_users(make_user, admin, round_trips):
    """Bulk (two users or more count per user): the cost depends on the number of collections only."""
    figures = {}
    for size in (2, 20):
        people = [make_user() for _ in range(size)]
        for person in people:
            linked_id_add(user=person, linked_id=f"{person.username}-x")
        with round_trips() as n:
            users_chain_delete(user_ids=[p.id for p in people], actor_id=admin.id, reason="bulk")
        print(f"\nusers_chain_delete ({size} users): {n.count} round trips {n.commands}")
        figures[size] = n.count

    assert figures[2] == figures[20], f"users_chain_delete: {figures}"
