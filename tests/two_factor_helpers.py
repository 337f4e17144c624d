"""Turning two-factor on in tests, as a person with an authenticator app would, and computing
the codes the app would show."""
import time
from datetime import datetime, timedelta, timezone

import pyotp

from accounts.mfa import two_factor
from tests.conftest import PASSWORD


# The service accepts the current step's code and one either side (accounts/mfa/factors.py). A
# code computed in the last moments of a step reaches the service in the next one, and one from
# `steps=-1` is then two steps old: on a loaded machine (the wire run) that happened. A code is
# computed at least this long before its step ends.
STEP_MARGIN_SECONDS = 3.0


def code_at(secret: str, steps: int = 0) -> str:
    """The code an authenticator shows now (`steps` 30-second steps later or earlier), computed
    at least STEP_MARGIN_SECONDS before the current step ends (it waits for the next otherwise)."""
    left = 30 - time.time() % 30
    if left < STEP_MARGIN_SECONDS:
        time.sleep(left + 0.05)
    return pyotp.TOTP(secret).at(datetime.now(timezone.utc) + timedelta(seconds=30 * steps))


def enrol(user, password: str = PASSWORD) -> tuple[str, list[str]]:
    """Turn TOTP on for `user` through the services; returns the secret and recovery codes.
    The confirming code is the previous step's, so that the current one is still unused."""
    secret, _ = two_factor.totp_enrol_start(user=user, current_password=password)
    codes = two_factor.totp_enrol_confirm(user=user, code=code_at(secret, steps=-1))
    return secret, codes
