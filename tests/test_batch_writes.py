"""common/batch.py: writes into several collections in one round trip (MongoDB 8.0's `bulkWrite`
over the wire; one by one on mongomock and on servers before 8.0), with the same results either
way; and the login that rests on it (3 round trips) keeps its promises: the rate limit, the
lock-out, the owner guard, the pruning of expired sessions.
"""
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from mongoengine.connection import get_db

from accounts.sessions.documents import Session
from accounts.users.documents import AuditEvent, LoginFailure, User, now
from common import batch
from tests.conftest import PASSWORD

DUPLICATE_KEY = 11000


@pytest.fixture(params=["together", "one by one"])
def mode(request, monkeypatch):
    """Both paths: the server's `bulkWrite` (mongomock has none: there both are one by one), and
    the fallback of a server before 8.0."""
    if request.param == "one by one":
        monkeypatch.setattr(batch, "_without_bulk_write", {id(get_db().client)})
    return request.param


def test_writes_into_several_collections_land_with_per_write_results(mode):
    db = get_db()
    db.batch_a.insert_one({"_id": 1, "n": 0})
    outcome = batch.writes_together(
        [
            batch.insert(db.batch_b, {"_id": "x", "v": 1}),
            batch.update(db.batch_a, {"_id": 1}, {"$inc": {"n": 1}}),
            batch.update(db.batch_a, {"_id": 2}, {"$inc": {"n": 1}}),  # no match
            batch.update(db.batch_a, {"_id": 3}, {"$set": {"n": 7}}, upsert=True),
            batch.delete(db.batch_b, {"_id": "x"}),
        ]
    )
    assert outcome.ok and outcome.errors == {}
    assert outcome.matched == [1, 1, 0, 0, 1]
    assert db.batch_a.find_one({"_id": 1})["n"] == 1
    assert db.batch_a.find_one({"_id": 3})["n"] == 7
    assert db.batch_b.count_documents({}) == 0


def test_ordered_stops_at_the_first_failure_and_unordered_goes_on(mode):
    db = get_db()
    db.batch_c.insert_one({"_id": 1})
    ordered = batch.writes_together(
        [batch.insert(db.batch_c, {"_id": 2}), batch.insert(db.batch_c, {"_id": 1}), batch.insert(db.batch_d, {"_id": 9})]
    )
    assert ordered.errors == {1: DUPLICATE_KEY}
    assert ordered.matched[0] == 1 and ordered.matched[2] is None
    assert db.batch_d.count_documents({}) == 0  # after the failure: not run
    unordered = batch.writes_together(
        [batch.insert(db.batch_c, {"_id": 1}), batch.insert(db.batch_d, {"_id": 9})], ordered=False
    )
    assert unordered.errors == {0: DUPLICATE_KEY}
    assert db.batch_d.count_documents({}) == 1


def test_an_empty_batch_is_no_round_trip(round_trips):
    with round_trips() as n:
        assert batch.writes_together([]).matched == []
    assert n.count == 0


def test_a_batch_is_one_round_trip(round_trips):
    db = get_db()
    with round_trips() as n:
        batch.writes_together([batch.insert(db.batch_e, {"a": 1}), batch.insert(db.batch_f, {"b": 1}), batch.update(db.batch_e, {}, {"$set": {"c": 1}})])
    assert n.commands == ["bulkWrite"]


# --- The login on it ---------------------------------------------------------------------------
def login(api, email="alice@example.com", password=PASSWORD, ip="10.9.9.9"):
    return api.post("/login", {"email": email, "password": password}, format="json", REMOTE_ADDR=ip)


def test_a_login_is_three_round_trips_whatever_sessions_the_user_has(api, user, round_trips, mode):
    for _ in range(3):
        assert login(api).status_code == 200
    with round_trips() as n:
        assert login(api).status_code == 200
    if mode == "together":
        assert n.commands == ["aggregate", "bulkWrite", "bulkWrite"]
    assert AuditEvent.objects(target=user.id, action="login").count() == 4
    user.reload()
    assert len(user.session_ids) == Session.objects(user=user.id).count() == 4
    # The lock-out's counters got every right password's place back.
    account = LoginFailure.objects(key=f"account:{user.email_key}").first()
    assert account.count == 0 and not account.by_address


def test_expired_sessions_leave_the_list_in_the_login_write(api, user, mode):
    assert login(api).status_code == 200
    user.reload()
    (old,) = user.session_ids
    Session.objects(id=old).update(set__expires_at=now() - timedelta(seconds=1))  # as if the TTL's turn had come
    assert login(api).status_code == 200
    user.reload()
    assert old not in user.session_ids and len(user.session_ids) == 1


def test_the_login_rate_is_counted_with_the_lockout_and_refused_as_drf_does(api, user, settings, monkeypatch, mode):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"login": "3/min"})
    codes = [login(api, ip="10.7.7.7").status_code for _ in range(3)]
    refused = login(api, ip="10.7.7.7")
    assert codes == [200, 200, 200] and refused.status_code == 429
    assert refused.json()["detail"].startswith("Request was throttled.")
    assert 55 <= int(refused["Retry-After"]) <= 60  # the window `limit_hit` keeps: the same document
    # The refused attempt is not counted by the lock-out either: nothing held for that address.
    assert LoginFailure.objects(key=f"account:{user.email_key}").first().count == 0
    # A bad body is a 400 and costs no hit: another address still has its three.
    assert api.post("/login", {"email": "not an email"}, format="json", REMOTE_ADDR="10.7.7.8").status_code == 400
    assert [login(api, ip="10.7.7.8").status_code for _ in range(3)] == [200, 200, 200]


def test_a_chain_delete_racing_the_login_write_leaves_nothing(api, user, monkeypatch, mode, caplog):
    """The batch's last write (the user's conditional update) finds the user marked: the session
    and the audit event of the same batch are removed, and no token is handed out (404, as
    every write racing a chain delete: accounts/users/guard.py). No log line claims the event."""
    real = batch.writes_together

    def mark_first(writes, **kwargs):
        if any(w.collection.name == "sessions" for w in writes):
            User.objects(id=user.id).update(set__deleting=True)
        return real(writes, **kwargs)

    monkeypatch.setattr(batch, "writes_together", mark_first)
    with caplog.at_level("INFO", logger="accounts.users.audit"):
        response = login(api)
    assert response.status_code == 404 and "access" not in response.json()
    assert Session.objects(user=user.id).count() == 0
    assert AuditEvent.objects(target=user.id, action="login").count() == 0
    assert not [r for r in caplog.records if r.getMessage().startswith("audit login ")]
    # (a login that lands logs its line: tests/test_logging.py)


def test_parallel_wrong_passwords_get_exactly_the_limit_of_hashes(api, user, settings, mode):
    from rest_framework.test import APIClient

    settings.LOGIN_FAILURE_LIMIT = 5
    barrier = threading.Barrier(20)

    def guess(i):
        client = APIClient()
        barrier.wait()
        return login(client, password=f"wrong guess {i}", ip="10.3.3.3").status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(guess, range(20)))
    assert codes.count(401) == 5 and codes.count(429) == 15


def test_a_batched_insert_outside_its_owner_guard_is_refused(user):
    from accounts.users.audit import audit_write

    with pytest.raises(RuntimeError, match="outside its owner_guard"):
        audit_write(action="login", actor=user, target=user)
