"""The login lock-out (OWASP ASVS 6.3.1): brute force is slowed without letting an attacker lock
the owner out. Failed logins are counted in MongoDB, so the limits hold across every process and
server (DRF's rate throttles, in Django's cache, are per endpoint and separate):

- per account and client address: LOGIN_FAILURE_LIMIT (5) failures, then that address gets 429
  for that account. Brute force from one place is as slow as ever, and the owner, at another
  address, still gets in;
- per account, from all addresses together: LOGIN_FAILURE_LIMIT_PER_ACCOUNT (100), a ceiling that
  takes a distributed attack from at least 20 addresses to reach;
- per client address, across accounts: LOGIN_FAILURE_LIMIT_PER_IP (50), against spraying.

A counter's window (LOGIN_FAILURE_WINDOW_SECONDS) starts at its own first failure; there is no
window boundary shared by every account for an attacker to time requests against, and a lock-out
ends when its window does (checked here against the clock; the TTL index only tidies up).
Counters are one document per account (the per-address counts inside it) and one per address;
addresses are stored only as keyed hashes (HMAC with SECRET_KEY), never in clear. Every
increment is an atomic `$inc` upsert.
"""
import hashlib
import hmac
import math
import time
from datetime import datetime, timedelta, timezone

from django.conf import settings
from pymongo.errors import DuplicateKeyError
from rest_framework.exceptions import Throttled

from accounts.users.documents import LoginFailure
from accounts.user_data.dependents import owner_remains

TOO_MANY = "Too many failed login attempts. Try again later."


def _address(ip: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), ip.encode(), hashlib.sha256).hexdigest()[:24]


def _keys(email_key: str, ip: str) -> tuple[str, str, str]:
    """(account counter key, this address's field inside it, address counter key)."""
    address = _address(ip)
    return f"account:{email_key}", address, f"ip:{address}"


def _now() -> datetime:
    return datetime.fromtimestamp(time.time(), tz=timezone.utc)


def login_guard_check(*, email_key: str, ip: str) -> dict:
    """Raise Throttled (429 with Retry-After) when this account from this address, the account
    from everywhere, or this address across accounts is past its limit. One query.

    Returns what it read, so that a successful login can clear this address's count."""
    account_key, address, ip_key = _keys(email_key, ip)
    now = _now()
    docs = {d["key"]: d for d in LoginFailure._get_collection().find({"key": {"$in": [account_key, ip_key]}, "expires_at": {"$gt": now}})}
    account, by_ip = docs.get(account_key, {}), docs.get(ip_key, {})
    blocked = [
        doc["expires_at"]
        for doc, over in (
            (account, account.get("by_address", {}).get(address, 0) >= settings.LOGIN_FAILURE_LIMIT),
            (account, account.get("count", 0) >= settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT),
            (by_ip, by_ip.get("count", 0) >= settings.LOGIN_FAILURE_LIMIT_PER_IP),
        )
        if over
    ]
    if blocked:
        until = max(blocked)
        until = until if until.tzinfo else until.replace(tzinfo=timezone.utc)
        raise Throttled(wait=max(1, math.ceil((until - now).total_seconds())), detail=TOO_MANY)
    return {"account_key": account_key, "address": address, "address_failures": account.get("by_address", {}).get(address, 0)}


def _count(key: str, inc: dict, on_insert: dict) -> None:
    """Add `inc` to the live counter `key`, starting a new window if there is none."""
    collection = LoginFailure._get_collection()
    now = _now()
    fresh = {"expires_at": now + timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS), **on_insert}
    try:
        collection.update_one({"key": key, "expires_at": {"$gt": now}}, {"$inc": inc, "$setOnInsert": fresh}, upsert=True)
        return
    except DuplicateKeyError:
        pass
    # The key exists but its window is over (the TTL monitor has not removed it yet), or two
    # first failures raced. Restart an ended window; else count in the one that now exists.
    collection.update_one({"key": key, "expires_at": {"$lte": now}}, {"$set": {**fresh, "count": 0, "by_address": {}}})
    collection.update_one({"key": key}, {"$inc": inc})


def login_failure_record(*, email_key: str, ip: str, user_id=None) -> None:
    """Count one failure for the account (from this address) and for the address."""
    account_key, address, ip_key = _keys(email_key, ip)
    _count(account_key, {"count": 1, f"by_address.{address}": 1}, {"user": user_id})
    _count(ip_key, {"count": 1}, {})
    if user_id is not None and not owner_remains(user_id=user_id):
        # The account is being chain-deleted: its counter must not outlive it (no orphan).
        LoginFailure._get_collection().delete_one({"key": account_key, "user": user_id})


def address_failure_record(*, ip: str) -> None:
    """Count one failure for the address alone: a login attempt that names no account (a
    passkey this service does not know)."""
    _count(_keys("", ip)[2], {"count": 1}, {})


def login_failures_clear(*, email_key: str, ip: str, counts: dict) -> None:
    """After a successful login, forget this address's failures for the account (only if there
    were any). The account-wide count stays: the owner's success must not reset an attack
    coming from elsewhere."""
    if counts.get("address_failures"):
        LoginFailure._get_collection().update_one({"key": counts["account_key"]}, {"$unset": {f"by_address.{counts['address']}": ""}})


def login_lockout_clear(*, email_key: str, user_id) -> None:
    """Forget the failed logins counted against the account, from every address, as a password
    reset does: whoever holds the mailbox is the owner and gets in at once. The counters of
    addresses across accounts stay: they are about the address, not this account."""
    LoginFailure._get_collection().delete_many({"$or": [{"key": f"account:{email_key}"}, {"user": user_id}]})
