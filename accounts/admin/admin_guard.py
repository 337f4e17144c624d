"""No change may leave the service without an active admin (API.md, "Operations").

An active admin has role `admin`, is active, is not in the trash and is not being chain-deleted
(marked `deleting`: such an account can no longer log in, and a crash may leave it so for a while). Every change that can take
admins away (a trash move, a bulk trash, a chain delete, a demotion, `manage.py delete_users`)
runs inside `active_admins_kept`, which answers 409 when no active admin would remain.

Race safety, as far as MongoDB allows without multi-document transactions (mongomock has none):
the check and the change run while holding one lock document (`locks`, `_id: "admins"`), taken
with a single-document conditional upsert, which MongoDB applies atomically: of two admins
demoting each other at once, one waits for the other and then sees it would be the last. The
lock carries an expiry, so a process that dies holding it blocks others for at most
LOCK_SECONDS. Changes that cannot remove an admin (the target is no active admin) take no lock
and cost no query. What the lock cannot cover: a write made directly in the database, or a lock
held past its expiry by a change slower than LOCK_SECONDS.
"""
import secrets
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from bson import ObjectId
from mongoengine.connection import get_db
from pymongo.errors import DuplicateKeyError

from accounts.users.documents import ROLE_ADMIN, User
from common.exceptions import Conflict

LAST_ADMIN = "This would leave the service without an active admin."
BUSY = "Another change to the admins is in progress. Try again."
LOCK_ID = "admins"
LOCK_SECONDS = 30
WAIT_SECONDS = 5


def active_admin_filter() -> dict:
    return {"role": ROLE_ADMIN, "is_active": {"$ne": False}, "in_trash": {"$ne": True}, "deleting": {"$ne": True}}


def _is_active_admin(user: User) -> bool:
    return user.role == ROLE_ADMIN and user.is_active is not False and not user.in_trash and not user.deleting


def _lock_acquire() -> str:
    locks = get_db()["locks"]
    owner = secrets.token_hex(8)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        now = time.time()
        try:
            # Matches a free (expired) lock and takes it; if the lock is held, the filter matches
            # nothing and the upsert's insert of the same _id fails: the unique _id decides.
            locks.update_one({"_id": LOCK_ID, "until": {"$lt": now}}, {"$set": {"until": now + LOCK_SECONDS, "owner": owner}}, upsert=True)
            return owner
        except DuplicateKeyError:
            if time.monotonic() > deadline:
                raise Conflict(BUSY) from None
            time.sleep(0.05)


def _lock_release(owner: str) -> None:
    get_db()["locks"].delete_one({"_id": LOCK_ID, "owner": owner})


@contextmanager
def _admins_leaving(admin_ids: list[ObjectId]) -> Iterator[None]:
    owner = _lock_acquire()
    try:
        remaining = User._get_collection().find_one({**active_admin_filter(), "_id": {"$nin": admin_ids}}, {"_id": 1})
        if remaining is None:
            raise Conflict(LAST_ADMIN)
        yield
    finally:
        _lock_release(owner)


@contextmanager
def active_admins_kept(*, leaving: Iterable[User]) -> Iterator[None]:
    """Run the block that removes `leaving` from the active admins (by trash, delete or
    demotion) only if an active admin remains; 409 otherwise."""
    admin_ids = [u.id for u in leaving if _is_active_admin(u)]
    if not admin_ids:
        yield
        return
    with _admins_leaving(admin_ids):
        yield


@contextmanager
def active_admins_kept_by_id(*, user_ids: list[ObjectId]) -> Iterator[None]:
    """`active_admins_kept` for a selection known by id only (one query to find its admins)."""
    admin_ids = User._get_collection().distinct("_id", {**active_admin_filter(), "_id": {"$in": user_ids}})
    if not admin_ids:
        yield
        return
    with _admins_leaving(admin_ids):
        yield
