"""The admin listing of users (`GET /users`), flat in the number of users.

Why not skip, limit and count: SecantusDB (the embedded database) reads every document that
matches a query's filter before it sorts, skips and limits, and counts by reading every document,
so a listing that filters on `in_trash` alone costs the whole collection (2.6 s a page at 50k
users). What is cheap on it, and on MongoDB, is a query whose *index range* is narrow. So:

- **Windows of creation time.** The listing's order is (`created_at`, `_id`), newest first, on
  the index `users.(in_trash, -created_at, -_id)`. A page is read from a window
  `in_trash: false, created_at in [t - w, t]`: the first window is 1 ms wide and each next one
  `GROWTH` times wider (`GROWTH` squared when the last widening found nobody new) until it holds
  the users asked for (or reaches the start of the listing),
  so a query never reads more than about `GROWTH` times the users it returns, whatever the number
  of users. The window that worked rides in the cursor, so the next page usually needs one query.
- **Keyset (cursor) pagination** beside `page` (API.md): `?cursor=` (empty: the first page) gives
  `next_cursor`, an opaque token of the last row's (`created_at`, `_id`); the next page is what is
  strictly older. Pages never drift when users are added meanwhile.
- **`page` is kept exactly as API.md says** (`accounts/admin/pagination.py`: one exact count and
  a skipped page), and so costs what it did: a count of every live user, and on the embedded
  database a read of them all. Use the cursor for large listings.
- **`total` in cursor mode, decided: no count.** It is a lower bound (`total_exact: false`): the
  users shown so far plus one while there are more, exact (`true`) once the last page is reached;
  `?total=exact` counts every live user (a scan on the embedded database) for whoever needs it.
- **Search**: `starts_with` (a prefix of the username or of the email, in their stored,
  case-folded form) reads two narrow ranges of the unique indexes `username_key` and `email_key`:
  it costs the matches, not the users. `q` (any part of the username or email, as API.md says)
  cannot use an index and reads every user once per request; it stays for the rare case.
"""
import base64
import binascii
from datetime import datetime, timedelta, timezone

from bson import ObjectId
from bson.errors import InvalidId
from django.utils import timezone as django_timezone
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from accounts.users.documents import User, as_utc, casefold_key

FIRST_WINDOW_MS = 1
GROWTH = 16
# No account is older than this: a window reaching it reads to the start of the listing.
FLOOR = datetime(2000, 1, 1, tzinfo=timezone.utc)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ORDER = [("created_at", -1), ("_id", -1)]
BAD_CURSOR = "Not a valid cursor: use a next_cursor of this listing, or an empty cursor for the first page."


def _ms(moment: datetime) -> int:
    return (as_utc(moment) - EPOCH) // timedelta(milliseconds=1)


def _moment(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def _key(row: dict) -> tuple[int, ObjectId]:
    return _ms(row["created_at"]), row["_id"]


class Cursor:
    """The position after the last row of a page, the window that found it, and how many users
    the listing has shown so far (or its exact total, for a search). Opaque to clients: URL-safe
    base64 of dotted fields."""

    def __init__(self, *, after: tuple[int, ObjectId], window_ms: int, total: int, total_exact: bool):
        self.after, self.window_ms, self.total, self.total_exact = after, window_ms, total, total_exact

    def encode(self) -> str:
        raw = f"{self.after[0]}.{self.after[1]}.{self.window_ms}.{self.total}.{int(self.total_exact)}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> "Cursor":
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
            ms, oid, window, total, exact = raw.split(".")
            cursor = cls(after=(int(ms), ObjectId(oid)), window_ms=int(window), total=int(total), total_exact=exact == "1")
        except (ValueError, InvalidId, binascii.Error, UnicodeDecodeError, TypeError):
            raise ValidationError({"cursor": [BAD_CURSOR]}) from None
        if not (0 <= cursor.after[0] < 10**14 and 1 <= cursor.window_ms < 10**13 and 0 <= cursor.total <= 10**9 and exact in ("0", "1")):
            raise ValidationError({"cursor": [BAD_CURSOR]})
        return cursor


def live_keys(*, want: int, after: tuple[int, ObjectId] | None = None, window_ms: int = FIRST_WINDOW_MS) -> tuple[list[tuple], int, bool]:
    """Up to `want` keys (`created_at` in ms, `_id`) of live users, newest first, strictly after
    `after` in that order. Returns them, the window (ms) that found them, and whether the listing
    ends among them (fewer than `want` were left). One query per window tried."""
    collection = User._get_collection()
    top = after[0] if after else _ms(django_timezone.now())
    window = max(FIRST_WINDOW_MS, window_ms)
    found_before = -1
    while True:
        low = top - window
        created = {} if after is None else {"$lte": _moment(after[0])}
        reaches_start = low <= _ms(FLOOR)
        if not reaches_start:
            created["$gte"] = _moment(low)
        query = {"in_trash": False, "deleting": {"$ne": True}, **({"created_at": created} if created else {})}
        rows = collection.find(query, {"created_at": 1}).sort(ORDER)
        keys = [key for key in map(_key, rows) if after is None or key[0] < after[0] or (key[0] == after[0] and key[1] < after[1])]
        if len(keys) >= want or reaches_start:
            return keys[:want], window, len(keys) < want
        # A wider window that found nobody new says the users are sparse here: widen faster.
        window *= GROWTH if len(keys) > found_before else GROWTH * GROWTH
        found_before = len(keys)


def prefix_keys(*, prefix: str) -> list[tuple]:
    """Keys of the live users whose username or email (stored forms) starts with `prefix`,
    newest first: two range reads of unique indexes, as long as the matches."""
    start = casefold_key(prefix)
    if not start:
        return []
    end = start[:-1] + chr(ord(start[-1]) + 1)
    collection = User._get_collection()
    found = {}
    for field in ("username_key", "email_key"):
        for row in collection.find({field: {"$gte": start, "$lt": end}}, {"created_at": 1, "in_trash": 1, "deleting": 1}):
            if not row.get("in_trash") and not row.get("deleting"):
                found[row["_id"]] = _key(row)
    return sorted(found.values(), reverse=True)


def substring_keys(*, query) -> list[tuple]:
    """Keys of every user a QuerySet matches, newest first (the `q` search: a scan)."""
    return [_key(row) for row in query._collection.find(query._query, {"created_at": 1}).sort(ORDER)]


def users_for_keys(keys: list[tuple]) -> list[User]:
    """The users of these keys, in their order. One query."""
    by_id = {user.id: user for user in User.objects(id__in=[key[1] for key in keys])}
    return [by_id[key[1]] for key in keys if key[1] in by_id]


def exact_total() -> int:
    """Every live user counted (`?total=exact`): a scan on the embedded database."""
    return User._get_collection().count_documents({"in_trash": False, "deleting": {"$ne": True}})


class ListingQuery(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=10**6, required=False)
    per_page = serializers.IntegerField(min_value=1, max_value=30, default=10)
    cursor = serializers.CharField(required=False, allow_blank=True, max_length=200, trim_whitespace=False)
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)
    starts_with = serializers.CharField(required=False, allow_blank=True, max_length=200)
    total = serializers.ChoiceField(choices=["exact"], required=False)

    def validate(self, data):
        if "cursor" in data and "page" in data:
            raise ValidationError({"cursor": ["Give either page or cursor, not both."]})
        if data.get("q") and data.get("starts_with"):
            raise ValidationError({"starts_with": ["Give either q or starts_with, not both."]})
        return data


def users_listing(*, params: dict, substring_query) -> dict | None:
    """The envelope of GET /users in keyset mode (`cursor`) or for `starts_with`, with `users`
    (the page's documents) in place of `data`; None for the numbered pages of the whole listing
    or of `q`, which the envelope pagination serves as API.md describes (exact `total`)."""
    per_page = params["per_page"]
    cursor_mode = "cursor" in params
    if not cursor_mode and not params.get("starts_with"):
        return None
    cursor = Cursor.decode(params["cursor"]) if params.get("cursor") else None
    after = cursor.after if cursor else None
    page = params.get("page", 1)
    offset = 0 if cursor_mode else (page - 1) * per_page
    if params.get("starts_with") or params.get("q"):
        keys = prefix_keys(prefix=params["starts_with"]) if params.get("starts_with") else substring_keys(query=substring_query)
        total, exact = len(keys), True
        if after is not None:
            keys = [key for key in keys if key < after]
    else:
        keys, _, _ = live_keys(want=per_page + 1, after=after, window_ms=cursor.window_ms if cursor else FIRST_WINDOW_MS)
        # Decided: no count. `total` is what this listing has shown so far plus one when there
        # is more (a lower bound, `total_exact: false`), exact when the last page is reached;
        # `?total=exact` counts every live user (a scan on the embedded database).
        seen = (cursor.total if cursor else 0) + min(len(keys), per_page)
        total, exact = (seen, True) if len(keys) <= per_page else (seen + 1, False)
    rows, more = keys[offset : offset + per_page], len(keys) > offset + per_page
    if params.get("total") == "exact" and not exact:
        total, exact = exact_total(), True
    envelope = {
        "total": total,
        "total_exact": exact,
        "page": None if cursor_mode else page,
        "per_page": per_page,
        "has_next": more,
        "has_previous": (cursor is not None) if cursor_mode else (page > 1 and total > 0),
        "users": users_for_keys(rows),
    }
    if cursor_mode:
        last = rows[-1] if rows and more else None
        # The next page likely spans about as long as this one did: twice that is its first window.
        span = 2 * (rows[0][0] - rows[-1][0] + 1) if rows else FIRST_WINDOW_MS
        shown = (cursor.total if cursor else 0) + len(rows) if not params.get("starts_with") and not params.get("q") else total
        envelope["next_cursor"] = Cursor(after=last, window_ms=min(span, 10**12), total=shown, total_exact=exact).encode() if last else None
    elif not cursor_mode:
        envelope.pop("total_exact")  # the numbered pages keep API.md's envelope exactly
        envelope["page"] = page
    return envelope
