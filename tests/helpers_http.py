"""Helpers shared by the HTTP tests of the seed endpoints: raw looks at the database (pymongo,
so they mean the same on mongomock and on a real MongoDB) and checks on response bodies."""
import json
import threading
from concurrent.futures import ThreadPoolExecutor

from bson import BSON, ObjectId
from mongoengine.connection import get_db

from tests.conftest import PASSWORD

# Substrings of stored password hashes of every hasher the service knows (tests use MD5).
HASH_MARKERS = ("argon2", "md5$", "pbkdf2", "bcrypt")

# Every collection that holds something of a user, and the field that names the user.
USER_FIELDS = {
    "users": "_id",
    "linked_ids": "user",
    "details": "user",
    "revoked_tokens": "user",
    "sessions": "user",
    "mfa_totp": "user",
    "login_failures": "user",
    "trash": "user",
    "audit_events": "target",
}


def db():
    return get_db()


def count_for(collection: str, user_id) -> int:
    """How many documents of `collection` belong to the user (raw query, no MongoEngine)."""
    return db()[collection].count_documents({USER_FIELDS[collection]: ObjectId(str(user_id))})


def counts_for(user_id) -> dict[str, int]:
    return {name: count_for(name, user_id) for name in USER_FIELDS}


def documents_mentioning(*, user_id, needles: tuple[str, ...] = (), skip: tuple[str, ...] = ()) -> list[tuple[str, dict]]:
    """Every document of every collection that holds the user's ObjectId anywhere (at any depth)
    or contains one of `needles` (such as the email) in any string, keys included."""
    oid = ObjectId(str(user_id))
    found = []
    for name in db().list_collection_names():
        if name.startswith("system.") or name in skip:
            continue
        for doc in db()[name].find({}):
            raw = BSON.encode(doc)
            if oid.binary in raw or any(n.encode() in raw for n in needles):
                found.append((name, doc))
    return found


def json_keys(value) -> set[str]:
    """Every key of every object in a parsed JSON value, at any depth."""
    keys: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            keys.add(key)
            keys |= json_keys(item)
    elif isinstance(value, list):
        for item in value:
            keys |= json_keys(item)
    return keys


def assert_no_password_material(response, *, label: str = "", extra: tuple[str, ...] = ()) -> None:
    """No hash substring (nor any of `extra`, e.g. the raw password or its stored hash) in the
    body, and no `password` key in a JSON body."""
    body = response.content.decode("utf-8", "replace")
    for marker in HASH_MARKERS + tuple(extra):
        assert marker.lower() not in body.lower(), f"{label}: {marker!r} found in response body {body[:300]!r}"
    if response.get("Content-Type", "").startswith("application/json") and body:
        keys = json_keys(json.loads(body))
        assert not any("password" in key.lower() for key in keys), f"{label}: a password key in {sorted(keys)}"


def run_together(fn, args: list) -> list:
    """Call fn(arg) for every arg, each in its own thread, all released at one instant; returns
    each call's result or the exception it raised, in order."""
    barrier = threading.Barrier(len(args))

    def call(arg):
        barrier.wait()
        try:
            return fn(arg)
        except Exception as exc:  # noqa: BLE001 - the caller inspects what each thread got
            return exc

    with ThreadPoolExecutor(max_workers=len(args)) as pool:
        return list(pool.map(call, args))


def is_object_id(value) -> bool:
    return isinstance(value, str) and len(value) == 24 and ObjectId.is_valid(value)


def login(api, email: str = "alice@example.com", password: str | None = None, path: str = "/login"):
    """POST /login (or `path`) with an email and password (the suite's PASSWORD by default)."""
    return api.post(path, {"email": email, "password": PASSWORD if password is None else password}, format="json")


def login_tokens(api, email: str, password: str | None = None) -> dict:
    """A successful login's body (`access`, `refresh`, ...); fails the test otherwise."""
    r = login(api, email, password)
    assert r.status_code == 200, r.content
    return r.json()


def login_attempt(api, email: str, password: str = "wrong password", ip: str = "10.0.0.1"):
    """POST /login from a given client address (a wrong password by default): the lock-out's tests."""
    return api.post("/login", {"email": email, "password": password}, format="json", REMOTE_ADDR=ip)
