"""Turning two-factor on in tests, as a person with an authenticator app would, and computing
the codes the app would show."""
from datetime import datetime, timedelta, timezone

import pyotp

from accounts.mfa import two_factor
from tests.conftest import PASSWORD


def code_at(secret: str, *, steps: int = 0) -> str:
    """The code an authenticator shows now (`steps` 30-second steps later or earlier)."""
    return pyotp.TOTP(secret).at(datetime.now(timezone.utc) + timedelta(seconds=30 * steps))


def enrol(user, password: str = PASSWORD) -> tuple[str, list[str]]:
    """Turn TOTP on for `user` through the services; returns the secret and recovery codes.
    The confirming code is the previous step's, so that the current one is still unused."""
    secret, _ = two_factor.totp_enrol_start(user=user, current_password=password)
    codes = two_factor.totp_enrol_confirm(user=user, code=code_at(secret, steps=-1))
    return secret, codes
