"""The login lock-out: failed logins counted in MongoDB, so the limit holds across every process
and server (DRF's rate throttles, in Django's cache, are per endpoint and separate): one counter per account and one per client address, in fixed windows of
`LOGIN_FAILURE_WINDOW_SECONDS`, incremented atomically with `$inc` upserts. Each window's key
is new, so a lock-out ends with its window: nobody can be locked out for longer than that.
"""
import math
import re
import time
from datetime import datetime, timezone

from django.conf import settings
from pymongo.errors import DuplicateKeyError
from rest_framework.exceptions import Throttled

from accounts.documents import LoginFailure


def _window() -> tuple[int, float]:
    size = settings.LOGIN_FAILURE_WINDOW_SECONDS
    return int(time.time() // size), size


def _keys(email_key: str, ip: str) -> tuple[str, str]:
    index, _ = _window()
    return f"account:{email_key}:{index}", f"ip:{ip}:{index}"


def _seconds_left() -> int:
    index, size = _window()
    return max(1, math.ceil((index + 1) * size - time.time()))


def login_guard_check(*, email_key: str, ip: str) -> dict[str, int]:
    """Raise Throttled (429 with Retry-After) when the account or the address is past its limit.

    Returns the current counts by key, so a successful login can clear the account's counter.
    """
    account_key, ip_key = _keys(email_key, ip)
    counts = {d["key"]: d["count"] for d in LoginFailure._get_collection().find({"key": {"$in": [account_key, ip_key]}}, {"key": 1, "count": 1})}
    if counts.get(account_key, 0) >= settings.LOGIN_FAILURE_LIMIT or counts.get(ip_key, 0) >= settings.LOGIN_FAILURE_LIMIT_PER_IP:
        raise Throttled(wait=_seconds_left(), detail="Too many failed login attempts. Try again later.")
    return counts


def login_failure_record(*, email_key: str, ip: str, user_id=None) -> None:
    """Count one failure for the account and for the address, each with an atomic upsert."""
    account_key, ip_key = _keys(email_key, ip)
    index, size = _window()
    # Kept a window past its end, so a clock skew between processes cannot reopen it early.
    expires_at = datetime.fromtimestamp((index + 2) * size, tz=timezone.utc)
    collection = LoginFailure._get_collection()
    for key, on_insert in ((account_key, {"expires_at": expires_at, "user": user_id}), (ip_key, {"expires_at": expires_at})):
        try:
            collection.update_one({"key": key}, {"$inc": {"count": 1}, "$setOnInsert": on_insert}, upsert=True)
        except DuplicateKeyError:
            # Two first failures raced to insert this key; the document exists now.
            collection.update_one({"key": key}, {"$inc": {"count": 1}})


def login_failures_clear(*, email_key: str, ip: str, counts: dict[str, int]) -> None:
    """After a successful login, forget the account's failures (only if there were any)."""
    account_key, _ = _keys(email_key, ip)
    if counts.get(account_key):
        LoginFailure._get_collection().delete_one({"key": account_key})


def login_lockout_clear(*, email_key: str, user_id) -> None:
    """Forget every failed login counted against the account (all windows), as a password
    reset does: whoever holds the mailbox is the owner, and should get in at once."""
    LoginFailure._get_collection().delete_many(
        {"$or": [{"user": user_id}, {"key": {"$regex": "^" + re.escape(f"account:{email_key}:")}}]}
    )
