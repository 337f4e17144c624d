"""Fixtures for the whole suite. Tests run on mongomock, or on a real MongoDB when
TEST_MONGODB_URI is set; they never use Django's SQL `db` fixture (there is no SQL database)."""
import pytest
from django.conf import settings
from mongoengine.connection import get_db
from rest_framework.test import APIClient

from accounts.users.documents import ROLE_ADMIN, User
from accounts.users.registration import user_register
from accounts.sessions.tokens import token_pair_for
from config import mongo
from tests import mongomock_store
from tests.roundtrips import COUNTER

PASSWORD = "correct-horse-battery-staple"

# Before any test touches the database: on mongomock, the store's patches; on a server, the
# connection again with the round-trip counter listening (pymongo takes listeners at creation).
if settings.MONGODB_URI:
    mongo.connect(event_listeners=(COUNTER,))
else:
    mongomock_store.install()
mongo.indexes_ensure()  # as the service's start-up does (config/mongo.py `startup`)


def pytest_collection_modifyitems(config, items):
    """Two markers skip tests on a server (TEST_MONGODB_URI) only; on mongomock everything runs.

    - `@pytest.mark.own_servers`: the test starts database servers and service processes of its
      own (crashes, kills, a live JWKS, the embedded server), so the suite's store plays no part
      in it and a second run would repeat the same test on the same kind of server. The run on
      mongomock runs it; CI's wire run leaves it out (a third of that run's time).
    - `@pytest.mark.secantus_defect("...")`: the test meets a known defect of the SecantusDB
      server (listed in README.md, "The embedded database"): skipped, with the reason, on a
      SecantusDB server only. On a real mongod it runs."""
    if not settings.MONGODB_URI:
        return
    own = pytest.mark.skip(reason="starts servers of its own (TEST_MONGODB_URI plays no part): the run on mongomock runs it")
    secantus = "secantusVersion" in get_db().command("buildInfo")
    for item in items:
        if item.get_closest_marker("own_servers") is not None:
            item.add_marker(own)
        marker = item.get_closest_marker("secantus_defect")
        if secantus and marker is not None:
            item.add_marker(pytest.mark.skip(reason=f"SecantusDB defect (a real mongod is right): {marker.args[0]}"))


@pytest.fixture(autouse=True)
def clean_database():
    """Every test starts on empty collections (indexes kept, as MongoEngine created them)
    (rate-limit counters included: they live in MongoDB, common/throttling.py). Mail and event jobs are
    documents in the outbox: emptied with the rest (tests run the outbox's work themselves,
    `accounts.events.outbox.outbox_drain`, or through tests/mailbox.py)."""
    db = get_db()
    # The suite empties every collection: never let it near a database that is not a test one.
    assert "test" in db.name, f"TEST_MONGODB_URI names the database {db.name!r}; use one whose name contains 'test'"
    for name in db.list_collection_names():
        if not name.startswith("system."):
            db[name].delete_many({})
    yield


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def make_user():
    counter = iter(range(1, 10_000))

    def make(username: str | None = None, email: str | None = None, password: str = PASSWORD, role: str = "user") -> User:
        n = next(counter)
        username = username or f"person{n}"
        email = email or f"{username.replace(' ', '')}@example.com"
        return user_register(username=username, email=email, password=password, role=role)

    return make


@pytest.fixture
def user(make_user) -> User:
    return make_user("alice", "alice@example.com")


@pytest.fixture
def other(make_user) -> User:
    return make_user("bob", "bob@example.com")


@pytest.fixture
def admin(make_user) -> User:
    return make_user("root admin", "admin@example.com", role=ROLE_ADMIN)


def bearer(user: User) -> str:
    return f"Bearer {token_pair_for(user).access_token}"


@pytest.fixture
def client_for():
    """An APIClient signed in as the given user (None: anonymous)."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=bearer(user))
        return client

    return make


@pytest.fixture
def round_trips():
    """Count database round trips: `with round_trips() as n: ...; n.count`."""
    if not settings.MONGODB_URI:
        COUNTER.patch_mongomock()

    class Counting:
        def __call__(self):
            return self

        def __enter__(self):
            COUNTER.reset()
            return self

        def __exit__(self, *exc):
            self.count = COUNTER.count
            self.commands = list(COUNTER.commands)

    return Counting()
