"""Races over real concurrency: many threads calling the WSGI app at once (Django's test Client
drives the full request stack: middleware, authentication, DRF, MongoEngine). Exactly one winner
where one is expected, no 500s, no duplicate documents."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import Client

from accounts.documents import LinkedId, RevokedToken, User
from accounts.services.tokens import token_pair_for
from profiles.documents import Details
from tests.conftest import PASSWORD, bearer

THREADS = 8


def race(requests):
    """Run the callables at the same moment (a barrier releases them together)."""
    barrier = threading.Barrier(len(requests))

    def go(request):
        barrier.wait()
        return request()

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(go, requests))


def post(path, body, user=None):
    headers = {"HTTP_AUTHORIZATION": bearer(user)} if user else {}
    return lambda: Client().post(path, body, content_type="application/json", **headers).status_code


@pytest.mark.parametrize("same", ["email", "username"])
def test_parallel_registrations_of_one_email_or_username_make_one_user(same):
    bodies = [
        {
            "username": "racer" if same == "username" else f"racer {n}",
            "email": "racer@example.com" if same == "email" else f"racer{n}@example.com",
            "password": PASSWORD,
        }
        for n in range(THREADS)
    ]
    codes = race([post("/users/register", body) for body in bodies])
    assert sorted(codes) == [201] + [409] * (THREADS - 1), codes
    assert User.objects.count() == 1


def test_parallel_links_of_one_linked_id_have_one_owner(make_user):
    users = [make_user() for _ in range(THREADS)]
    codes = race([post("/users/link_id", {"user_id": str(u.id), "linked_id": "contested"}, u) for u in users])
    assert sorted(codes) == [200] + [409] * (THREADS - 1), codes
    assert LinkedId.objects(linked_id="contested").count() == 1


def test_parallel_relinks_by_the_owner_all_succeed_once_stored(user):
    codes = race([post("/users/link_id", {"user_id": str(user.id), "linked_id": "mine"}, user) for _ in range(THREADS)])
    assert codes == [200] * THREADS
    assert LinkedId.objects(linked_id="mine").count() == 1


def test_parallel_refreshes_of_one_token_have_one_winner(user):
    raw = str(token_pair_for(user))
    codes = race([post("/auth/refresh", {"refresh": raw}) for _ in range(THREADS)])
    assert sorted(codes) == [200] + [401] * (THREADS - 1), codes
    assert RevokedToken.objects.count() == 1


def test_parallel_detail_upserts_leave_one_document_with_every_field(user):
    fields = [{"address": "a street"}, {"phone": "+15550001111"}, {"preferences": {"k": 1}}] * 3
    codes = race([post("/users/add_details", {"user_id": str(user.id), **f}, user) for f in fields[:THREADS]])
    assert codes == [200] * THREADS
    assert Details.objects(user=user.id).count() == 1
    details = Details.objects.get(user=user.id)
    assert (details.address, details.phone, details.preferences) == ("a street", "+15550001111", {"k": 1})
