"""Verifying the raw bcrypt hashes of the older FastAPI systems, so their users keep their passwords.

Those systems stored passlib's bcrypt output as is (`$2b$12$...`). `manage.py import_users`
stores it as `legacy_bcrypt$` + that hash. On the user's next login the password verifies here
and Django's `check_password` re-hashes it with the preferred hasher (Argon2), because this
hasher is never the preferred one.
"""
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import bcrypt
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare

BCRYPT_MAX_BYTES = 72  # passlib silently truncated here; bcrypt 5.0 raises instead


class LegacyBcryptPasswordHasher(BasePasswordHasher):
    algorithm = "legacy_bcrypt"
    library = ("bcrypt", "bcrypt")

    @staticmethod
    def wrap(raw_hash: str) -> str:
        """The stored form of a raw bcrypt hash from the older systems."""
        return f"{LegacyBcryptPasswordHasher.algorithm}${raw_hash}"

    @staticmethod
    def is_raw_bcrypt(value: str) -> bool:
        parts = value.split("$")
        return (
            len(parts) == 4
            and parts[0] == ""
            and parts[1] in ("2a", "2b", "2y")
            and parts[2].isdigit()
            and len(parts[3]) == 53
        )

    def salt(self) -> str:
        return bcrypt.gensalt(12).decode("ascii")

    def encode(self, password: str, salt: str) -> str:
        data = bcrypt.hashpw(password.encode()[:BCRYPT_MAX_BYTES], salt.encode("ascii"))
        return self.wrap(data.decode("ascii"))

    def verify(self, password: str, encoded: str) -> bool:
        algorithm, data = encoded.split("$", 1)
        if algorithm != self.algorithm or not self.is_raw_bcrypt(data):
            return False
        try:
            return constant_time_compare(encoded, self.encode(password, data[:29]))
        except ValueError:  # a damaged hash is a failed login, never a 500
            return False

    def decode(self, encoded: str) -> dict:
        _, data = encoded.split("$", 1)
        _, _, rounds, rest = data.split("$", 3)
        return {"algorithm": self.algorithm, "work_factor": int(rounds), "salt": rest[:22], "checksum": rest[22:]}

    def safe_summary(self, encoded: str) -> dict:
        decoded = self.decode(encoded)
        return {
            "algorithm": decoded["algorithm"],
            "work factor": decoded["work_factor"],
            "salt": mask_hash(decoded["salt"]),
            "checksum": mask_hash(decoded["checksum"]),
        }

    def must_update(self, encoded: str) -> bool:
        return True


# --- Argon2, yielding the CPU to cheap requests -------------------------------------------------
_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_pool_lock = threading.Lock()


def _lower_priority() -> None:
    """Lower the CPU priority of this hashing thread. On Linux niceness belongs to the thread, and
    the threads Argon2 starts for its lanes inherit it; elsewhere nothing changes."""
    if sys.platform == "linux":
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), settings.PASSWORD_HASHING_NICE)
        except OSError:
            pass


def _hashing_pool() -> ThreadPoolExecutor:
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():  # a forked worker makes its own
            _pool = ThreadPoolExecutor(settings.PASSWORD_HASHING_THREADS, "hashing", initializer=_lower_priority)
            _pool_pid = os.getpid()
        return _pool


class LowPriorityArgon2PasswordHasher(Argon2PasswordHasher):
    """Django's Argon2 hasher (same algorithm name, parameters and stored hashes, so either reads
    the other's), run on a few threads of low CPU priority: a login still costs one full hash,
    but while logins are hashed, requests that need little CPU are served first. At most
    PASSWORD_HASHING_THREADS hashes run at once (each takes ~100 MiB), the rest wait their turn."""

    def encode(self, password, salt):
        return _hashing_pool().submit(super().encode, password, salt).result()

    def verify(self, password, encoded):
        return _hashing_pool().submit(super().verify, password, encoded).result()
