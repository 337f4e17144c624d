"""The second factors themselves: the TOTP secret at rest and its codes, and the recovery codes.
Each code is accepted once, decided by one atomic update (see accounts/mfa/two_factor.py for the
rules). Used by two-factor's flows (enrolment, the login's second step) and by the
re-authentication gate (accounts/users/reauth.py), which is why they live apart from the flows.
"""
import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timezone

import pyotp
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.crypto import salted_hmac

from accounts.mfa.documents import TotpDevice
from accounts.users.documents import User

RECOVERY_CODE_COUNT = 10
INVALID_CODE = "Invalid code."


# --- The secret at rest ---------------------------------------------------------------------------
def _fernet() -> MultiFernet:
    """The first key encrypts; every key decrypts (so keys can be rotated: put the new one first)."""
    keys = list(settings.MFA_ENCRYPTION_KEYS)
    if not keys:
        # Derived from SECRET_KEY, as Django derives its own signing keys (salted HMAC, so this
        # key reveals nothing about SECRET_KEY and serves nothing else). Set MFA_ENCRYPTION_KEYS
        # in production so that SECRET_KEY can be rotated without losing every TOTP secret.
        # The salt is a fixed label: changing it would make every stored secret unreadable.
        digest = salted_hmac("accounts.two_factor", "totp-secret-encryption", secret=settings.SECRET_KEY, algorithm="sha256").digest()
        keys = [base64.urlsafe_b64encode(digest)]
    return MultiFernet([Fernet(key) for key in keys])


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_decrypt(stored: str) -> str | None:
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken:
        return None  # under a key no longer configured: no code can match


# --- Codes ---------------------------------------------------------------------------------------
def totp_for(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret)


def matching_step(secret: str, code: str, at: datetime | None = None) -> int | None:
    """The time step (of the current one and one either side) whose code is `code`, or None."""
    totp = totp_for(secret)
    current = totp.timecode(at or datetime.now(timezone.utc))
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _recovery_normal(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def recovery_hash(code: str) -> str:
    return hashlib.sha256(_recovery_normal(code).encode()).hexdigest()


def recovery_codes_new() -> tuple[list[str], list[str]]:
    """Ten codes of 80 random bits (16 base32 letters, shown as four groups) and their hashes."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes, [recovery_hash(code) for code in codes]


def totp_accept(user: User, code: str) -> bool:
    """True once per time step: the conditional update on `last_step` has one winner."""
    collection = TotpDevice._get_collection()
    device = collection.find_one({"user": user.id, "confirmed": True}, {"secret": 1})
    secret = secret_decrypt(device["secret"]) if device else None
    step = matching_step(secret, code) if secret else None
    if step is None:
        return False
    return bool(collection.update_one({"_id": device["_id"], "last_step": {"$lt": step}}, {"$set": {"last_step": step}}).modified_count)


def recovery_code_accept(user: User, code: str) -> bool:
    """True once per recovery code: its hash is pulled by one atomic update."""
    digest = recovery_hash(code)
    return bool(
        TotpDevice._get_collection()
        .update_one({"user": user.id, "confirmed": True, "recovery_codes": digest}, {"$pull": {"recovery_codes": digest}})
        .modified_count
    )


def second_factor_accept(*, user: User, code: str | None = None, recovery_code: str | None = None) -> bool:
    """True when `code` (TOTP) or else `recovery_code` is right for `user`, and it is now used up."""
    return totp_accept(user, code) if code else recovery_code_accept(user, recovery_code or "")
