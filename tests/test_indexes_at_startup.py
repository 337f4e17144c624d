"""Every collection's indexes exist before the first request (config/mongo.py `indexes_ensure`,
called by `startup`). MongoEngine makes them on a collection's first use and publishes the
collection first, so on an empty database the first parallel requests could write before the
unique indexes that keep the lock-out's count and one account per email: CI once saw 7 of 50
parallel guesses get a password check where the lock-out promises 5."""
import time

import pytest
from django.conf import settings

from accounts.users.documents import LoginFailure, User
from config import mongo
from tests.test_lockout_and_admin_races import guess, hashes, together  # noqa: F401 - fixtures

pytestmark = pytest.mark.skipif(bool(settings.MONGODB_URI), reason="a new, empty in-memory store each time (mongomock)")


@pytest.fixture
def empty_store():
    """A new in-memory store, as a first start on an empty database: no collection, no index."""
    mongo.connect()
    yield
    mongo.connect()
    mongo.indexes_ensure()


def unique_indexes(cls) -> set[str]:
    return {name for name, spec in cls._get_collection().index_information().items() if spec.get("unique")}


def test_startup_makes_every_declared_index_before_any_use(empty_store, monkeypatch):
    calls = []
    monkeypatch.setattr(mongo, "indexes_ensure", lambda real=mongo.indexes_ensure: calls.append(real()))
    mongo.startup()
    assert calls and calls[0] >= 16  # every document class with a collection
    assert "key_1" in unique_indexes(LoginFailure)
    assert any("email_key" in name for name in unique_indexes(User))


def test_on_an_empty_database_50_parallel_first_guesses_get_exactly_5_checks(empty_store, make_user, hashes, settings, monkeypatch):  # noqa: F811
    real = LoginFailure.ensure_indexes.__func__

    def slow(cls):  # the window between MongoEngine publishing the collection and its indexes, held open
        time.sleep(0.3)
        real(cls)

    monkeypatch.setattr(LoginFailure, "ensure_indexes", classmethod(slow))
    # What start-up does. Without it, guesses past the 5th wrote second counters (no unique index
    # yet) and the index creation then failed on them: 500s.
    mongo.indexes_ensure()
    settings.LOGIN_FAILURE_LIMIT = 5
    first = make_user("first")
    codes = together([guess(first.email, "wrong password guess") for _ in range(50)])
    assert sorted(codes) == [401] * 5 + [429] * 45, codes
    assert LoginFailure.objects(key__startswith="account:").count() == 1
