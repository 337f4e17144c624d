"""Acknowledged means durable, storage failures are 503s, readiness sees them, waits are bounded,
and tokens tolerate a little clock skew (issue 20). In process, on mongomock or over the wire;
the same faults against real server processes are in tests/test_faults_wire.py."""
from datetime import timedelta

import pytest
from django.test import override_settings
from mongoengine.connection import get_db
from pymongo.errors import NetworkTimeout, OperationFailure, WriteConcernError
from rest_framework_simplejwt import tokens as jwt_tokens
from rest_framework_simplejwt.utils import aware_utcnow

from accounts.sessions.tokens import token_pair_for
from common.exceptions import StorageUnavailable, database_unavailable, storage_failure
from config import mongo
from tests.conftest import PASSWORD

WRITES = ("insert_one", "insert_many", "update_one", "update_many", "find_one_and_update", "delete_one", "delete_many", "replace_one")


def storage_stopped(monkeypatch, *, reads_too: bool = False):
    """Every write (and with `reads_too` every read) fails as SecantusDB's do once WiredTiger
    stopped on a full disk: an OperationFailure with code 1 (InternalError)."""
    collection_class = type(get_db()["users"])

    def failing(self, *args, **kwargs):
        raise OperationFailure("internal server error", code=1, details={"ok": 0, "code": 1, "codeName": "InternalError"})

    for name in WRITES + (("find_one", "find", "aggregate") if reads_too else ()):
        monkeypatch.setattr(collection_class, name, failing)


# --- the write concern and the timeouts ----------------------------------------------------------
@override_settings(MONGODB_DURABLE_WRITES=True)
@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("", {"journal": True, "w": 1}),
        ("mongodb://db.example:27017/app", {"journal": True, "w": 1}),
        ("mongodb://a,b,c/app?replicaSet=rs0", {"journal": True, "w": "majority"}),
        ("mongodb+srv://u:p@cluster0.example.mongodb.net/app", {"journal": True, "w": "majority"}),
        # The URI's own write concern wins, each option on its own.
        ("mongodb://a,b/app?replicaSet=rs0&w=2", {"journal": True}),
        ("mongodb://db/app?journal=false", {"w": 1}),
        ("mongodb://db/app?j=false&W=1", {}),
    ],
)
def test_every_write_waits_for_the_journal_unless_the_uri_says_otherwise(uri, expected):
    options = mongo.client_options(uri)
    assert {k: options[k] for k in ("journal", "w") if k in options} == expected


@override_settings(
    MONGODB_CONNECT_TIMEOUT_MS=1111, MONGODB_SERVER_SELECTION_TIMEOUT_MS=2222, MONGODB_SOCKET_TIMEOUT_MS=3333, MONGODB_WAIT_QUEUE_TIMEOUT_MS=4444
)
def test_every_wait_on_the_database_is_bounded_by_a_setting():
    options = mongo.client_options("mongodb://db/app")
    assert options["connectTimeoutMS"] == 1111
    assert options["serverSelectionTimeoutMS"] == 2222
    assert options["socketTimeoutMS"] == 3333
    assert options["waitQueueTimeoutMS"] == 4444
    # A URI that sets one keeps its own.
    assert "socketTimeoutMS" not in mongo.client_options("mongodb://db/app?socketTimeoutMS=100")


def test_the_defaults_cost_a_frozen_database_a_few_seconds_at_most():
    from django.conf import settings

    assert settings.MONGODB_SOCKET_TIMEOUT_MS <= 5000
    assert settings.MONGODB_SERVER_SELECTION_TIMEOUT_MS <= 5000
    assert settings.MONGODB_WAIT_QUEUE_TIMEOUT_MS <= 5000
    assert settings.MONGODB_DURABLE_WRITES is True


def test_the_embedded_server_is_started_durable():
    from config.embedded_mongodb import server_arguments

    assert "--sync-on-commit" in server_arguments(host="127.0.0.1", port=1, data_dir="/tmp/x")


# --- storage failures are a 503 ----------------------------------------------------------------
def test_the_one_mapping_tells_storage_failures_from_bugs():
    assert isinstance(database_unavailable(OperationFailure("no space", code=14031)), StorageUnavailable)
    assert isinstance(database_unavailable(WriteConcernError("journal", code=64)), StorageUnavailable)
    assert database_unavailable(NetworkTimeout("timed out")).default_code == "service_unavailable"
    assert database_unavailable(OperationFailure("bad $ operator", code=2)) is None  # our bug: a 500
    assert database_unavailable(ValueError("x")) is None
    # mongoengine re-raises the driver's error as its own; the cause is found.
    try:
        try:
            raise OperationFailure("internal server error", code=1)
        except OperationFailure:
            raise RuntimeError("Could not save document")
    except RuntimeError as wrapped:
        assert storage_failure(wrapped)


def test_a_full_disk_is_a_503_with_a_clear_body_not_a_500(api, user, client_for, monkeypatch):
    signed_in = client_for(user)
    storage_stopped(monkeypatch)
    r = api.post("/users/register", {"username": "newcomer", "email": "new@example.com", "password": PASSWORD}, format="json")
    assert r.status_code == 503, r.content
    assert r.json()["detail"] == StorageUnavailable.default_detail
    assert r["Retry-After"] == "5"
    r = signed_in.post("/users/link_id", {"user_id": str(user.id), "linked_id": "crm:1"}, format="json")
    assert r.status_code == 503 and "storage" in r.json()["detail"]


def test_a_full_disk_is_a_503_for_reads_too(client_for, user, monkeypatch):
    client = client_for(user)
    storage_stopped(monkeypatch, reads_too=True)
    r = client.get("/users/me")
    assert r.status_code == 503 and r.json() == {"detail": StorageUnavailable.default_detail}


def test_an_error_that_is_no_storage_failure_stays_a_500(api, monkeypatch):
    def bug(self, *args, **kwargs):
        raise OperationFailure("unknown operator: $bogus", code=2)

    monkeypatch.setattr(type(get_db()["users"]), "insert_one", bug)
    with pytest.raises(Exception, match="bogus"):  # the test client re-raises what would be a 500
        api.post("/users/register", {"username": "newcomer", "email": "new@example.com", "password": PASSWORD}, format="json")


def test_the_browser_login_is_a_503_on_a_full_disk(user, monkeypatch):
    from django.test import Client

    browser = Client()
    storage_stopped(monkeypatch, reads_too=True)
    r = browser.post("/api-auth/login/", {"email": user.email, "password": PASSWORD})
    assert r.status_code == 503
    assert StorageUnavailable.default_detail.split(" (")[0] in r.content.decode()


# --- readiness: a durable write, not a ping ------------------------------------------------------
@pytest.mark.parametrize("path", ["/ready", "/ready/"])
def test_ready_writes_and_answers_ok(api, path):
    r = api.get(path)
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "ok"}
    doc = get_db()["readiness"].find_one({})
    assert doc["writes"] == 1 and doc["at"] is not None


def test_ready_fails_on_a_full_disk_where_health_still_answers_and_recovers(api, monkeypatch):
    storage_stopped(monkeypatch)
    r = api.get("/ready")
    assert r.status_code == 503 and r.json() == {"status": "error", "database": "storage failure"}
    assert r["Retry-After"] == "5"
    # Liveness: the process and a ping are fine; restarting the service would not help.
    assert api.get("/health").status_code == 200
    monkeypatch.undo()
    assert api.get("/ready").status_code == 200


def test_ready_fails_when_the_database_cannot_be_reached(api, monkeypatch):
    def lost(self, *args, **kwargs):
        raise NetworkTimeout("timed out")

    monkeypatch.setattr(type(get_db()["readiness"]), "update_one", lost)
    r = api.get("/ready")
    assert r.status_code == 503 and r.json() == {"status": "error", "database": "unreachable"}


def test_ready_lets_a_bug_be_a_bug(api, monkeypatch):
    def bug(self, *args, **kwargs):
        raise OperationFailure("unknown operator", code=2)

    monkeypatch.setattr(type(get_db()["readiness"]), "update_one", bug)
    with pytest.raises(OperationFailure):
        api.get("/ready")


# --- clock skew ------------------------------------------------------------------------------
def token_issued_ahead(user, seconds: float, monkeypatch):
    ahead = aware_utcnow() + timedelta(seconds=seconds)
    monkeypatch.setattr(jwt_tokens, "aware_utcnow", lambda: ahead)
    access = str(token_pair_for(user).access_token)  # both made on the host that runs ahead
    monkeypatch.undo()
    return access


def test_a_token_from_a_host_5_seconds_ahead_is_accepted(api, user, monkeypatch):
    access = token_issued_ahead(user, 5, monkeypatch)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api.get("/users/me").status_code == 200


def test_a_token_issued_well_in_the_future_is_refused(api, user, monkeypatch):
    access = token_issued_ahead(user, 120, monkeypatch)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api.get("/users/me").status_code == 401


def test_the_leeway_is_a_setting_of_a_few_seconds():
    from django.conf import settings

    assert settings.SIMPLE_JWT["LEEWAY"] == settings.JWT_LEEWAY_SECONDS
    assert 0 < settings.JWT_LEEWAY_SECONDS <= 30
