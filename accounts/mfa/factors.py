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
from django.views.decorators.debug import sensitive_variables

from accounts.mfa import guess_cap
from accounts.mfa.codes import totp_code_parse
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


@sensitive_variables("secret", "code", "totp")
def matching_step(secret: str, code: str, at: datetime | None = None) -> int | None:
    """The time step (of the current one and one either side) whose code is `code`, or None.
    Whatever `code` holds, it is read as `codes.totp_code_parse` reads it: only six ASCII digits
    can match (anything else reached `hmac.compare_digest` as a TypeError, issue 21)."""
    code = totp_code_parse(code)
    if code is None:
        return None
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


@sensitive_variables("code", "secret", "device")
def totp_accept(device: dict | None, code: str) -> bool:
    """True once per time step: the conditional update on `last_step` has one winner. `device`
    is the confirmed device as `guess_cap.mfa_attempt_reserve` read it (None: two-factor off)."""
    secret = secret_decrypt(device["secret"]) if device else None
    step = matching_step(secret, code) if secret else None
    if step is None:
        return False
    update = TotpDevice._get_collection().update_one({"_id": device["_id"], "last_step": {"$lt": step}}, {"$set": {"last_step": step}})
    return bool(update.modified_count)


@sensitive_variables("code", "digest")
def recovery_code_accept(user: User, code: str) -> bool:
    """True once per recovery code: its hash is pulled by one atomic update."""
    digest = recovery_hash(code)
    return bool(
        TotpDevice._get_collection()
        .update_one({"user": user.id, "confirmed": True, "recovery_codes": digest}, {"$pull": {"recovery_codes": digest}})
        .modified_count
    )


@sensitive_variables("code", "recovery_code", "device")
def second_factor_accept(*, user: User, code: str | None = None, recovery_code: str | None = None) -> bool:
    """True when `code` (TOTP) or else `recovery_code` is right for `user`, and it is now used up.

    Whoever asks (the login's second step, the re-authentication gate), the attempt first takes
    one of the account's wrong second factors for the day (accounts/mfa/guess_cap.py: 429 past
    MFA_FAILURE_LIMIT_PER_DAY, the right code included), given back when the code is right."""
    device = guess_cap.mfa_attempt_reserve(user_id=user.id, token_version=user.token_version)
    accepted = totp_accept(device, code) if code else recovery_code_accept(user, recovery_code or "")
    if accepted:
        guess_cap.mfa_attempt_release(user_id=user.id)
    return accepted
