"""Rate limits that hold across threads, processes and machines.

Every limit of the service (DRF's throttles, the reset-mail cap, the verification mail re-sent at
login) is counted in MongoDB, the store every process already shares, by the `limits` package's
MongoDB storage and its moving-window strategy: the same semantics as DRF's own sliding log (at
most N hits in any window of the rate's length), decided by one conditional write per hit, so N
means N under any number of workers. No Redis and no per-process cache: with `granian -w 3` the
register limit is still 10 a minute, not 30.

The storage runs on the service's own MongoEngine connection (the same server, database, write
concern and timeouts; mongomock in the tests), in the collections `rate_limit_windows` (one document
per key: the hit times, newest first, at most N) and `rate_limit_counters` (unused by the moving
window), each with a TTL index on `expireAt` so idle keys disappear.

DRF's throttle interface stays: `SharedRateThrottle` is `SimpleRateThrottle` with its cache
replaced by this counter, and `ScopedSharedThrottle` is `ScopedRateThrottle` on it.
"""
from __future__ import annotations

import datetime
import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.storage import MongoDBStorage
from limits.strategies import MovingWindowRateLimiter
from mongoengine.connection import get_connection, get_db
from rest_framework.exceptions import Throttled
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

WINDOWS = "rate_limit_windows"
COUNTERS = "rate_limit_counters"


class ServiceConnectionStorage(MongoDBStorage):
    """`limits`' MongoDB storage on the service's connection instead of a client of its own."""

    def __init__(self) -> None:
        super().__init__(
            "mongodb://service-connection",  # never dialled: `storage` below is the service's client
            database_name=get_db().name,
            counter_collection_name=COUNTERS,
            window_collection_name=WINDOWS,
        )
        self._indexed_client = None

    @property
    def storage(self):
        client = get_connection()
        if client is not self._indexed_client:  # first use, or the service connected again
            for name in (COUNTERS, WINDOWS):
                client[self._database_name][name].create_index("expireAt", expireAfterSeconds=0)
            self._indexed_client = client
        return client

    def _init_mongo_client(self, uri, **options):  # pragma: no cover - `storage` never calls it
        return get_connection()

    def __del__(self) -> None:
        """The library closes its client when the storage is collected; this client is the service's."""

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """The library's acquire, with its filter `{"entries.<limit-amount>": {"$not": {"$gte": t}}}`
        spelled as the equivalent `$or` of "missing" and "older than t": the same documents match on
        MongoDB, and mongomock (which mis-handles `$not` on an array position past the end) agrees.
        The window is full exactly when its (limit-amount)th newest hit is inside the window; the
        update is then no match, its upsert meets the unique `_id`, and the hit is refused."""
        if amount > limit:
            return False
        try:
            self.windows.update_one(*window_hit(key, limit, expiry, amount), upsert=True)
            return True
        except self.lib.errors.DuplicateKeyError:
            return False


def window_hit(key: str, limit: int, expiry: int, amount: int = 1) -> tuple[dict, dict]:
    """The filter and update of one conditional upsert that counts `amount` hits on `key`'s moving
    window, or meets the unique `_id` (a duplicate key: refused) when the window is full."""
    now = time.time()
    position = f"entries.{limit - amount}"
    return (
        {"_id": key, "$or": [{position: {"$exists": False}}, {position: {"$lt": now - expiry}}]},
        {"$push": {"entries": {"$each": [now] * amount, "$position": 0, "$slice": limit}}, "$set": {"expireAt": _utc_after(expiry)}},
    )


def _utc_after(seconds: int) -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)


_limiter: MovingWindowRateLimiter | None = None


def limiter() -> MovingWindowRateLimiter:
    """The process's limiter (stateless: every count is in MongoDB), made on first use."""
    global _limiter
    if _limiter is None:
        _limiter = MovingWindowRateLimiter(ServiceConnectionStorage())
    return _limiter


def limit_hit(key: str, count: int, seconds: int) -> bool:
    """Count one hit on `key` and say whether it is within `count` per `seconds` (one round trip).
    A refused hit is not counted, as DRF's throttles do."""
    return limiter().hit(RateLimitItemPerSecond(count, seconds), key)


def limit_wait(key: str, count: int, seconds: int) -> float:
    """Seconds until `key` may hit again (0 when it may now)."""
    stats = limiter().get_window_stats(RateLimitItemPerSecond(count, seconds), key)
    return 0.0 if stats.remaining else max(0.0, stats.reset_time - time.time())


@dataclass
class RateHit:
    """A hit on a rate limit not yet counted: a throttle that defers its write (`DeferredThrottle`)
    hands it to the service, which counts it in the same round trip as its own first write
    (`common/batch.py`) and answers 429 (`throttled`) when the window was full."""

    key: str
    count: int
    seconds: int

    def write(self):
        from common import batch

        limiter().storage.storage  # the TTL index exists before the first hit, as with `limit_hit`
        windows = get_connection()[get_db().name][WINDOWS]
        item = RateLimitItemPerSecond(self.count, self.seconds)  # `limit_hit`'s document, the same key
        return batch.update(windows, *window_hit(item.key_for(self.key), item.amount, item.get_expiry()), upsert=True)

    def throttled(self) -> Throttled:
        """The 429 DRF's throttles give, with the seconds until the next hit may count."""
        return Throttled(wait=max(1, math.ceil(limit_wait(self.key, self.count, self.seconds))))


class SharedRateThrottle(SimpleRateThrottle):
    """DRF's `SimpleRateThrottle` counted in MongoDB (`limit_hit`) instead of Django's cache."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        return limit_hit(self.key, self.num_requests, self.duration)

    def wait(self) -> float:
        return limit_wait(self.key, self.num_requests, self.duration)


class DeferredThrottle(SharedRateThrottle):
    """A `SharedRateThrottle` that lets the request in and leaves its hit on `request.rate_hit`
    (a `RateHit`), for a view whose service counts it together with its own first write: one
    round trip fewer (POST /login). A request refused before that write (a 400) costs the
    database nothing and is not counted. The price, decided: a request past the rate is refused
    after the service's first read and write, with the counters it took handed back (POST /login:
    4 round trips, against DRF's 2), so a flood past the limit costs the database a little more per
    request, while every login within it, the common case, costs one round trip less."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is not None:
            request.rate_hit = RateHit(key, self.num_requests, self.duration)
        return True


class ScopedSharedThrottle(ScopedRateThrottle, SharedRateThrottle):
    """DRF's `ScopedRateThrottle` (the view's `throttle_scope`) counted in MongoDB."""
