"""The login lock-out (OWASP ASVS 6.3.1): brute force is slowed without letting an attacker lock
the owner out. Attempts are counted in MongoDB, so the limits hold across every thread, process
and server:

- per account and client address: LOGIN_FAILURE_LIMIT (5) attempts that were not right, then
  that address gets 429 for that account. Brute force from one place is as slow as ever, and the
  owner, at another address, still gets in;
- per account, from all addresses together: LOGIN_FAILURE_LIMIT_PER_ACCOUNT (100), a ceiling that
  takes a distributed attack from at least 20 addresses to reach;
- per client address, across accounts: LOGIN_FAILURE_LIMIT_PER_IP (50), against spraying.

**The attempt is counted before the password is checked** (the design principle: the database
keeps the promise, atomically, before the expensive work). `login_attempt_reserve` adds the
attempt to the account's and the address's counters in one round trip (one `bulk_write` of two
conditional `$inc` upserts), and each increment applies only while its counter is under its
limit: of 50 parallel guesses exactly 5 get a place and are hashed, the other 45 are refused
(429) without a hash. A counter past its limit makes the upsert's insert collide with the
existing document (the unique `key`): that collision is the refusal. A right password hands its
place back and clears this address's count for the account (`login_attempt_succeeded`); a wrong
one keeps it. Reading the counters, checking the password, then counting the failure (as before)
let 19 guesses through where 5 were promised.

A counter's window (LOGIN_FAILURE_WINDOW_SECONDS) starts at its own first attempt; there is no
window boundary shared by every account for an attacker to time requests against, and a lock-out
ends when its window does (checked here against the clock; the TTL index only tidies up).
Counters are one document per account (the per-address counts inside it) and one per address;
addresses are stored only as keyed hashes (HMAC with SECRET_KEY), never in clear. The account's
counter belongs to the user (CASCADE) and is written under the owner guard.
"""
import hashlib
import hmac
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from django.conf import settings
from pymongo import UpdateOne
from pymongo.errors import OperationFailure
from rest_framework.exceptions import Throttled

from accounts.users.documents import LoginFailure, as_utc
from accounts.users.guard import guarded
from common import batch, metrics
from common.throttling import RateHit

TOO_MANY = "Too many failed login attempts. Try again later."
DUPLICATE_KEY = 11000


def _address(ip: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), ip.encode(), hashlib.sha256).hexdigest()[:24]


def _now() -> datetime:
    return datetime.fromtimestamp(time.time(), tz=timezone.utc)


@dataclass
class Attempt:
    """A reserved place in the counters: what `login_attempt_succeeded` hands back."""

    account_key: str
    address: str
    ip_key: str


def _attempt(email_key: str, ip: str) -> Attempt:
    address = _address(ip)
    return Attempt(account_key=f"account:{email_key}", address=address, ip_key=f"ip:{address}")


def _under_limit(limit: int) -> dict:
    return {"$not": {"$gte": limit}}  # a missing count (a fresh counter) is under every limit


def _reservations(attempt: Attempt, now: datetime, user_id) -> list[tuple[str, batch.Write]]:
    """(counter key, its conditional increment): the account's (unless the attempt names no
    account) and the address's."""
    fresh = {"expires_at": now + timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)}
    live = {"expires_at": {"$gt": now}}
    ops = []
    if attempt.account_key != "account:":
        account = batch.update(
            LoginFailure,
            {
                "key": attempt.account_key,
                **live,
                f"by_address.{attempt.address}": _under_limit(settings.LOGIN_FAILURE_LIMIT),
                "count": _under_limit(settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT),
            },
            {"$inc": {"count": 1, f"by_address.{attempt.address}": 1}, "$setOnInsert": {**fresh, "user": user_id}},
            upsert=True,
        )
        ops.append((attempt.account_key, account))
    address = batch.update(
        LoginFailure,
        {"key": attempt.ip_key, **live, "count": _under_limit(settings.LOGIN_FAILURE_LIMIT_PER_IP)},
        {"$inc": {"count": 1}, "$setOnInsert": fresh},
        upsert=True,
    )
    return [*ops, (attempt.ip_key, address)]


def _refund(attempt: Attempt, keys: list[str]) -> None:
    """Take this attempt back out of the counters named by `keys`."""
    ops = {
        attempt.account_key: UpdateOne(
            {"key": attempt.account_key, "count": {"$gt": 0}}, {"$inc": {"count": -1, f"by_address.{attempt.address}": -1}}
        ),
        attempt.ip_key: UpdateOne({"key": attempt.ip_key, "count": {"$gt": 0}}, {"$inc": {"count": -1}}),
    }
    if keys:
        LoginFailure._get_collection().bulk_write([ops[k] for k in keys], ordered=False)


def login_attempt_reserve(*, email_key: str, ip: str, user_id=None, rate: RateHit | None = None) -> Attempt:
    """Count one attempt for the account (from this address) and for the address, before the
    password is checked; 429 (Throttled, with Retry-After) when either is past its limit, and
    then nothing is counted. One round trip; a counter whose window ended costs one more to
    restart it. `user_id`: the account's user, when it exists (its counter belongs to them).
    An empty `email_key` (an attempt that names no account: an unknown passkey) counts for the
    address alone. `rate`: the endpoint's rate-limit hit (common/throttling.py's
    `DeferredThrottle`), counted in the same round trip: refused, it is DRF's 429 and the
    attempt is not counted either."""
    attempt = _attempt(email_key, ip)
    collection = LoginFailure._get_collection()
    for _ in range(3):  # at most: a window restarted, then a race with another restart
        now = _now()
        keyed = _reservations(attempt, now, user_id)
        writes = [write for _, write in keyed]
        if rate is not None:
            # The endpoint's rate first, in order: refused, nothing after it runs, so a request
            # past the rate never holds a place in the lock-out's counters, even for a moment
            # (a concurrent attempt within the rate must not be locked out by it).
            outcome = batch.writes_together([rate.write(), *writes], ordered=True)
            if 0 in outcome.errors:
                if outcome.errors[0] != DUPLICATE_KEY:
                    raise OperationFailure(f"rate limit not counted: {outcome.errors}")
                raise rate.throttled()
            outcome = batch.Outcome(
                matched=outcome.matched[1:], errors={i - 1: code for i, code in outcome.errors.items()}
            )
        else:
            outcome = batch.writes_together(writes, ordered=False)
        if any(code != DUPLICATE_KEY for code in outcome.errors.values()):
            raise OperationFailure(f"login attempt not counted: {outcome.errors}")
        failed = [keyed[i][0] for i in outcome.errors]
        rate = None  # counted: a restart below must not count it twice
        if not failed:
            break
        # Counted: what ran and matched or inserted (after a refusal, an ordered batch runs no more).
        counted = [key for i, (key, _) in enumerate(keyed) if outcome.matched[i] is not None]
        # A collision: that counter exists and is either past its limit or past its window.
        docs = {d["key"]: d for d in collection.find({"key": {"$in": failed}})}
        ended = [k for k in failed if k in docs and as_utc(docs[k]["expires_at"]) <= now]
        if len(ended) < len(failed):
            # Past a limit: refused. The other counter's increment of this attempt goes back.
            _refund(attempt, counted)
            held = [as_utc(docs[k]["expires_at"]) for k in failed if k in docs and k not in ended]
            until = max(held) if held else now
            metrics.count_lockout()
            raise Throttled(wait=max(1, math.ceil((until - now).total_seconds())), detail=TOO_MANY)
        # Ended windows: restart them (once, whoever gets there first), give back what counted,
        # and try the whole reservation again.
        for key in ended:
            restart = {"count": 0, "by_address": {}, "expires_at": now + timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)}
            collection.update_one({"key": key, "expires_at": {"$lte": now}}, {"$set": restart})
        _refund(attempt, counted)
    else:  # pragma: no cover - three restarts in a row would take three ended windows
        raise Throttled(detail=TOO_MANY)
    if user_id is not None:
        # The account's counter belongs to the user: none may outlive a chain delete racing this.
        guarded(user_id, LoginFailure, {"key": attempt.account_key, "user": user_id})
    return attempt


def login_attempt_succeeded(attempt: Attempt, *, clear: bool = True) -> None:
    """The password (and the second factor, where there is one) was right: this address's count
    for the account is cleared, and the attempt's place in the account-wide and address counts
    is handed back (the owner's success neither counts against anybody nor resets an attack
    coming from elsewhere). With `clear=False` (a right password still waiting for its second
    factor) only the attempt's own place is handed back. One round trip."""
    if not clear:
        _refund(attempt, [attempt.account_key, attempt.ip_key])
        return
    batch.writes_together(login_success_writes(attempt), ordered=False)


def login_success_writes(attempt: Attempt) -> list[batch.Write]:
    """`login_attempt_succeeded`'s writes, for a caller that sends them with its own
    (common/batch.py): a login sends them with its audit event and its session."""
    return [
        batch.update(LoginFailure, {"key": attempt.account_key}, {"$unset": {f"by_address.{attempt.address}": ""}, "$inc": {"count": -1}}),
        batch.update(LoginFailure, {"key": attempt.ip_key, "count": {"$gt": 0}}, {"$inc": {"count": -1}}),
    ]


def login_lockout_clear(*, email_key: str, user_id) -> None:
    """Forget the attempts counted against the account, from every address, as a password
    reset does: whoever holds the mailbox is the owner and gets in at once. The counters of
    addresses across accounts stay: they are about the address, not this account."""
    LoginFailure._get_collection().delete_many({"$or": [{"key": f"account:{email_key}"}, {"user": user_id}]})


# --- The names of the read-check-count design, kept for callers written against it -------------
# Each keeps the promise the new way: the "check" reserves the attempt (counted before the
# password is checked), recording a failure has nothing left to do, and clearing after success
# hands the attempt back.
def login_guard_check(*, email_key: str, ip: str, user_id=None) -> Attempt:
    return login_attempt_reserve(email_key=email_key, ip=ip, user_id=user_id)


def login_failure_record(*, email_key: str, ip: str, user_id=None) -> None:
    """Counted already, by the reservation made before the password was checked."""


def login_failures_clear(*, email_key: str, ip: str, counts: Attempt) -> None:
    login_attempt_succeeded(counts)


def address_failure_record(*, ip: str) -> None:
    """Counted already: `login_guard_check(email_key="", ...)` reserved the address's place."""
