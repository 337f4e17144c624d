"""Settings for the test suite: fast hashing, DEBUG on, mongomock unless TEST_MONGODB_URI is set.

The suite never starts the embedded database: without TEST_MONGODB_URI it runs on mongomock (an
in-process fake, the fast backend; tests/mongomock_store.py), with it on that server (CI runs it
a second time on a SecantusDB server). Round trips are counted by tests/conftest.py.
"""
import os
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("DEBUG", "true")

from config.settings.base import *  # noqa: E402,F403

MONGODB_URI = os.environ.get("TEST_MONGODB_URI", "")
MONGODB_CLIENT_CLASS = "" if MONGODB_URI else "mongomock.MongoClient"
# Under pytest-xdist (`-n`) each worker has a database of its own on the server: the suite empties
# its collections before every test. A database named in the URI would win over MONGODB_DB, so the
# URI names the worker's too (children started with this environment land in the same one).
MONGODB_DB = "user_service_test" + (f"_{os.environ['PYTEST_XDIST_WORKER']}" if os.environ.get("PYTEST_XDIST_WORKER") else "")
if MONGODB_URI:
    MONGODB_URI = urlunsplit(urlsplit(MONGODB_URI)._replace(path=f"/{MONGODB_DB}"))
# Tests measure behaviour, not hashing cost.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "accounts.users.hashers.LowPriorityArgon2PasswordHasher",
    "accounts.users.hashers.LegacyBcryptPasswordHasher",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {  # noqa: F405
    scope: "1000/min" for scope in ("login", "register", "token", "identity_change", "email_token", "password_reset", "email_resend", "reauth")
}
ADMIN_USERNAME = ADMIN_EMAIL = ADMIN_PASSWORD = ""
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# The tests run the outbox's work themselves (accounts.events.outbox.outbox_drain), synchronously.
OUTBOX_WORKERS_IN_PROCESS = 0
# The tests make what check_integrity looks for a moment before they run it: no grace (its own
# tests set one).
INTEGRITY_GRACE_SECONDS = 0
