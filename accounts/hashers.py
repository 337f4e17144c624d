"""Verifying the raw bcrypt hashes of the older FastAPI systems, so their users keep their passwords.

Those systems stored passlib's bcrypt output as is (`$2b$12$...`). `manage.py import_users`
stores it as `legacy_bcrypt$` + that hash. On the user's next login the password verifies here
and Django's `check_password` re-hashes it with the preferred hasher (Argon2), because this
hasher is never the preferred one.
"""
import bcrypt
from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
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
