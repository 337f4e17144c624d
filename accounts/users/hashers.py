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
from django.core import checks
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


# OWASP's Password Storage Cheat Sheet: Argon2id with any one of these (memory KiB, passes), p=1;
# they cost about the same. More memory or more passes than a row is at least as strong.
OWASP_ARGON2_FLOOR = ((47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5))


def argon2_meets_owasp_floor(*, time_cost: int, memory_kib: int) -> bool:
    return any(memory_kib >= m and time_cost >= t for m, t in OWASP_ARGON2_FLOOR)


class LowPriorityArgon2PasswordHasher(Argon2PasswordHasher):
    """Django's Argon2id hasher (same algorithm name and stored form, so either reads the other's)
    with its parameters from the settings (PASSWORD_ARGON2_TIME_COST, _MEMORY_KIB, _PARALLELISM),
    run on a few threads of low CPU priority: a login still costs one full hash, but while
    logins are hashed, requests that need little CPU are served first.

    Memory is bounded: at most PASSWORD_HASHING_THREADS hashes run at once (the pool's threads),
    the rest wait their turn, so hashing holds at most PASSWORD_HASHING_THREADS x
    PASSWORD_ARGON2_MEMORY_KIB however many logins arrive together. A stored hash made with other
    parameters (Django's defaults, 100 MiB, t=2, p=8, before these settings) still verifies,
    since its parameters are in it, and `must_update` then makes the login re-hash it with these.
    """

    @property
    def time_cost(self) -> int:
        return settings.PASSWORD_ARGON2_TIME_COST

    @property
    def memory_cost(self) -> int:
        return settings.PASSWORD_ARGON2_MEMORY_KIB

    @property
    def parallelism(self) -> int:
        return settings.PASSWORD_ARGON2_PARALLELISM

    def encode(self, password, salt):
        return _hashing_pool().submit(super().encode, password, salt).result()

    def verify(self, password, encoded):
        return _hashing_pool().submit(super().verify, password, encoded).result()


@checks.register(checks.Tags.security)
def argon2_parameters_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """A warning when the preferred hasher is ours and its parameters are below OWASP's floor."""
    if not settings.PASSWORD_HASHERS or settings.PASSWORD_HASHERS[0] != f"{__name__}.LowPriorityArgon2PasswordHasher":
        return []
    t, m, p = settings.PASSWORD_ARGON2_TIME_COST, settings.PASSWORD_ARGON2_MEMORY_KIB, settings.PASSWORD_ARGON2_PARALLELISM
    problems = []
    if t < 1 or m < 8 * p or p < 1:
        problems.append(checks.Error(
            f"PASSWORD_ARGON2_*: time cost {t}, memory {m} KiB, parallelism {p} is not a valid Argon2 setting.",
            hint="Time cost and parallelism at least 1, memory at least 8 KiB per lane.",
            id="accounts.E001",
        ))
    elif not argon2_meets_owasp_floor(time_cost=t, memory_kib=m):
        problems.append(checks.Warning(
            f"Argon2id at {m} KiB and {t} passes is below OWASP's floor for password storage.",
            hint="OWASP: 12288 KiB (12 MiB) and 3 passes, 19456 KiB and 2, or 47104 KiB and 1 (README, Performance).",
            id="accounts.W001",
        ))
    return problems
