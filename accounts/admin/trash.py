"""The trash: reversible (the API calls it a soft delete). A trashed account cannot log in, its tokens fail,
listings leave it out, and its data, username and email stay until it is restored or purged.

A trash move is two writes (no transaction to lean on: mongomock has none), ordered so that it is
never half done in a harmful way and a retry completes it:
1. the user is marked `in_trash` and its `token_version` raised, in one atomic update: from here
   the account cannot log in and every token it was given is refused, for good (a restore does
   not lower the version, so it revives none); its pending email tokens (reset and verification
   links) are deleted right after, and again by a restore;
2. the trash entry (who, when, why) is inserted; its unique index on the user makes a retry
   harmless.
A crash between them leaves an account that is unusable but not yet listed in /trash; the same
call again (DELETE /users/{id}, POST /trash/bulk_delete), a restore or a purge completes it.
"""
from bson import ObjectId
from mongoengine import NotUniqueError
from pymongo.errors import BulkWriteError
from rest_framework.exceptions import NotFound

from accounts.emails import email_tokens
from accounts.events.outbox import outbox_write
from accounts.events.webhooks import event_emit, event_job
from accounts.users.documents import AuditEvent, User, now
from accounts.admin.documents import TrashEntry
from accounts.admin.admin_guard import active_admins_kept
from accounts.users.audit import audit_record
from accounts.sessions.services import sessions_documents_delete, sessions_end_all_set
from accounts.user_data.services import user_delete

NOT_IN_TRASH = "This user is not in the trash."
DUPLICATE_KEY = 11000


def _users_mark_trashed(user_ids: list[ObjectId]) -> int:
    """Step 1: mark and revoke, atomically per user; returns how many were live until now. The
    same write ends every session of theirs (so the sessions list shows none after a restore);
    the Session documents go right after."""
    update = {"$set": {"in_trash": True, "updated_at": now(), **sessions_end_all_set()}, "$inc": {"token_version": 1}}
    moved = User._get_collection().update_many({"_id": {"$in": user_ids}, "in_trash": {"$ne": True}}, update).modified_count
    sessions_documents_delete(user_ids=user_ids)
    # Every pending email token (reset, verification) goes too, as the tokens above: a link mailed
    # before the move must not work after a restore (issue 21). A restore voids them once more.
    email_tokens.tokens_void_for_users(user_ids=user_ids)
    return moved


def trash_entries_insert(entries: list[TrashEntry]) -> None:
    """Step 2: the trash entries; those that exist already (a retry) are left as they are."""
    try:
        TrashEntry._get_collection().insert_many([e.to_mongo() for e in entries], ordered=False)
    except BulkWriteError as exc:
        if any(error.get("code") != DUPLICATE_KEY for error in exc.details.get("writeErrors", [])):
            raise


def user_trash(*, user: User, actor: User, reason: str, ip: str | None = None) -> bool:
    """Move an account to the trash: it cannot log in, every token it holds is refused for good,
    listings leave it out, its data and its username and email stay. False if it was in the
    trash already. 409 if it is the last active admin."""
    with active_admins_kept(leaving=[user]):
        moved = _users_mark_trashed([user.id]) == 1
    try:
        TrashEntry(user=user.id, trashed_by=actor.id, reason=reason).save(force_insert=True)
    except NotUniqueError:
        return moved  # a retry of a move whose entry was written: nothing left to do
    audit_record(action="trash", actor=actor, target=user, ip=ip, reason=reason)
    event_emit("user.trashed", user_id=user.id)
    return True


def user_restore(*, user: User, actor: User, ip: str | None = None) -> User:
    """Take an account out of the trash; 404 if it is not there. The tokens it held before the
    trash move stay refused: it logs in afresh. Entry first, then the mark, so that a crash in
    between leaves the account unusable and a second restore completes it."""
    # The mailed tokens of before the move die first: also those a crash between the move's own
    # writes left, or a reset mailed while the account was moving.
    email_tokens.tokens_void_for_users(user_ids=[user.id])
    entry_gone = TrashEntry.objects(user=user.id).delete()
    user.in_trash, user.updated_at = False, now()
    unmarked = User.objects(id=user.id, in_trash=True).update_one(set__in_trash=False, set__updated_at=user.updated_at)
    if not (entry_gone or unmarked):
        raise NotFound(NOT_IN_TRASH)
    audit_record(action="restore", actor=actor, target=user, ip=ip)
    event_emit("user.restored", user_id=user.id)
    return user


def bulk_ids_normalise(ids: list[str]) -> tuple[list[ObjectId], list[str]]:
    """The valid ids as ObjectIds (any letter case names one id) and the rest as sent, each once,
    in the order given."""
    valid: dict[ObjectId, None] = {}
    invalid: dict[str, None] = {}
    for raw in ids:
        if ObjectId.is_valid(raw):
            valid[ObjectId(raw.lower())] = None
        else:
            invalid[raw] = None
    return list(valid), list(invalid)


def users_trash_bulk(*, ids: list[str], actor: User, reason: str) -> dict[str, list[str]]:
    """Move many accounts to the trash at once (at most 1000 ids; a few queries in all), each as
    `user_trash` does. Running it again after a crash completes every move it began. 409 if it
    would trash the last active admin."""
    valid, invalid = bulk_ids_normalise(ids)
    found = {u.id: u for u in User.objects(id__in=valid).only("id", "in_trash", "role", "is_active")}
    # The contract's keys: `deleted_now` are trashed by this call, `already_deleted` were in the trash.
    result: dict[str, list[str]] = {"deleted_now": [], "already_deleted": [], "not_found": []}
    fresh = []
    for user_id in valid:
        user = found.get(user_id)
        if user is None:
            result["not_found"].append(str(user_id))
        elif user.in_trash:
            result["already_deleted"].append(str(user_id))
        else:
            fresh.append(user)
    result["not_found"] += invalid
    if fresh:
        with active_admins_kept(leaving=fresh):
            _users_mark_trashed([u.id for u in fresh])
    # Entries for every trashed account named, so that a move cut short before its entry is
    # completed by this call; existing entries are kept.
    trashed = [u.id for u in found.values()]
    if trashed:
        trash_entries_insert([TrashEntry(user=i, trashed_by=actor.id, reason=reason) for i in trashed])
    if fresh:
        AuditEvent._get_collection().insert_many(
            [AuditEvent(action="trash", actor_id=actor.id, target=u.id, detail={"reason": reason}).to_mongo() for u in fresh]
        )
        outbox_write([event_job("user.trashed", user_id=u.id, data={}) for u in fresh])
    result["deleted_now"] = [str(u.id) for u in fresh]
    return result


def user_purge(*, user: User, actor: User) -> dict[str, int]:
    """The permanent chain delete of a trashed account; 404 unless it is in the trash.
    The deletion record keeps the reason it was trashed for."""
    entry = TrashEntry.objects(user=user.id).first()
    if entry is None and not user.in_trash:
        raise NotFound(NOT_IN_TRASH)
    return user_delete(user=user, actor=actor, reason=entry.reason if entry else "")
