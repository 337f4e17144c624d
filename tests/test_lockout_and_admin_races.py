"""Promises kept under parallel requests (issue 20), over HTTP through the whole WSGI stack, on
mongomock and over the wire: the lock-out's 5 means 5 under 50 parallel guesses, and two admins
demoting each other at once never leave no admin."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import Client

from accounts.users import login as login_service
from accounts.users.documents import ROLE_ADMIN, LoginFailure, User
from tests.conftest import PASSWORD, bearer


def together(calls):
    """Run the callables at the same moment (a barrier releases them together)."""
    barrier = threading.Barrier(len(calls))

    def go(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(go, calls))


def guess(email: str, password: str, ip: str = "198.51.100.7"):
    def call():
        return Client(REMOTE_ADDR=ip).post("/login", {"email": email, "password": password}, content_type="application/json").status_code

    return call


@pytest.fixture
def hashes(monkeypatch):
    """Count the password checks, each made slow (30 ms): the window in which a read-check-count
    lock-out let parallel guesses through is held wide open, deterministically."""
    checked = []
    real = login_service.check_password

    def slow_check(*args, **kwargs):
        checked.append(1)
        time.sleep(0.03)
        return real(*args, **kwargs)

    monkeypatch.setattr(login_service, "check_password", slow_check)
    return checked


def test_50_parallel_wrong_guesses_get_exactly_5_password_checks(user, hashes, settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    codes = together([guess(user.email, "wrong password guess") for _ in range(50)])
    assert sorted(codes) == [401] * 5 + [429] * 45, codes
    assert len(hashes) == 5  # the other 45 were refused before any hash
    account = LoginFailure.objects.get(key=f"account:{user.email_key}")
    assert account.count == 5 and list(account.by_address.values()) == [5]


def test_the_owner_gets_in_from_elsewhere_while_50_parallel_guesses_are_held_to_5(user, hashes, settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    codes = together([guess(user.email, "wrong password guess") for _ in range(50)] + [guess(user.email, PASSWORD, ip="203.0.113.5")])
    assert codes[-1] == 200
    assert sorted(codes[:-1]) == [401] * 5 + [429] * 45, codes
    assert len(hashes) == 6


def test_a_right_password_clears_the_count_and_hands_its_place_back(api, user, settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    for _ in range(4):
        assert guess(user.email, "wrong password guess")() == 401
    assert guess(user.email, PASSWORD)() == 200
    for _ in range(5):  # a fresh five after the owner got in
        assert guess(user.email, "wrong password guess")() == 401
    assert guess(user.email, "wrong password guess")() == 429
    assert guess(user.email, PASSWORD)() == 429  # the right one too, from this address


def test_parallel_guesses_from_many_addresses_stop_at_the_account_ceiling(user, hashes, settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT = 12
    codes = together([guess(user.email, "wrong password guess", ip=f"198.51.100.{n}") for n in range(40)])
    assert codes.count(401) == 12 and codes.count(429) == 28, codes
    assert len(hashes) == 12


@pytest.mark.slow
def test_two_admins_demoting_each_other_at_once_never_leave_no_admin(make_user):
    """100 rounds over HTTP. The guard decided on the target after `user_update` had already
    set its new role in memory: it saw no admin leaving, took no lock and checked nothing."""
    a = make_user("admin a", "a@example.com", role=ROLE_ADMIN)
    b = make_user("admin b", "b@example.com", role=ROLE_ADMIN)
    headers = {a.id: bearer(a), b.id: bearer(b)}

    def demote(actor, target):
        def call():
            return Client().patch(
                f"/users/{target.id}", {"role": "user"}, content_type="application/json", HTTP_AUTHORIZATION=headers[actor.id]
            ).status_code

        return call

    outcomes = []
    for _ in range(100):
        codes = together([demote(a, b), demote(b, a)])
        admins = User.objects(role=ROLE_ADMIN).count()
        assert admins >= 1, codes
        outcomes.append(tuple(sorted(codes)))
        User.objects(id__in=[a.id, b.id]).update(set__role=ROLE_ADMIN)
    # One demotion wins each round; the other is refused (409: the last admin), or (403) its actor
    # was no admin any more by the time it was checked.
    assert all(codes[0] == 200 and codes[1] in (403, 409) for codes in outcomes), set(outcomes)
