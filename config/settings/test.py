"""Settings for the test suite: fast hashing, DEBUG on, in-memory MongoDB unless TEST_MONGODB_URI."""
import os

os.environ.setdefault("DEBUG", "true")
os.environ["MONGODB_URI"] = os.environ.get("TEST_MONGODB_URI", "")

from config.settings.base import *  # noqa: E402,F403

MONGODB_DB = "user_service_test"
# Tests measure behaviour, not hashing cost.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "accounts.hashers.LowPriorityArgon2PasswordHasher",
    "accounts.hashers.LegacyBcryptPasswordHasher",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {  # noqa: F405
    scope: "1000/min" for scope in ("login", "register", "token", "identity_change", "email_token", "password_reset", "email_resend")
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
ADMIN_USERNAME = ADMIN_EMAIL = ADMIN_PASSWORD = ""
LOGGING["root"]["level"] = "WARNING"  # noqa: F405

# Round trips are counted at the driver boundary (tests/roundtrips.py).
from tests.roundtrips import COUNTER  # noqa: E402

MONGODB_CLIENT_OPTIONS = {"event_listeners": [COUNTER]}
