"""The trash: reversible (the API calls it a soft delete). A trashed account cannot log in, its tokens fail,
listings leave it out, and its data, username and email stay until it is restored or purged.

A trash move is several writes (no transaction to lean on: mongomock and standalone servers have
none), ordered so that the account is never hidden from both /users and /trash, no audit event of
a move is lost, and every step can be found and finished after a crash (issue 20):
1. the intent: the trash entry (who, when, why), unique per user; from here the account shows in
   /trash (and still in /users);
2. the user is marked `in_trash` and `trash_pending`, its `token_version` raised and its sessions
   ended, in one atomic update conditional on it not being deleted: from here the account cannot
   log in and every token it was given is refused, for good (a restore does not lower the
   version); its Session documents and pending email tokens (reset, verification links) go next;
3. the audit event and the user.trashed event, whose ids are the entry's: written twice, they are
   there once;
4. `trash_pending` is unset, conditionally on the user not being deleted, which proves that the
   writes of step 3 did not land after a racing chain delete (accounts/users/guard.py).
A crash after step 1 leaves an entry without the mark, after step 2 or 3 a mark with
`trash_pending`: the same call again (DELETE /users/{id} by an admin, POST /trash/bulk_delete)
or `manage.py check_integrity --repair` (`trash_moves_complete`) completes it, with the actor and
reason of the entry. A restore writes its intent on the entry first (`restoring`), takes the
account out, writes its events, and deletes the entry last: cut short, the account shows in /trash
(and in /users once out) and a second restore or `--repair` finishes it.
"""
from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError
from rest_framework.exceptions import NotFound

from accounts.emails import email_tokens
from accounts.events.documents import OutboxJob
from accounts.events.webhooks import event_job
from accounts.users.documents import AuditEvent, User, now
from accounts.admin.documents import TrashEntry
from accounts.admin.admin_guard import active_admins_kept
from accounts.users.guard import owner_guard
from accounts.sessions.services import sessions_documents_delete, sessions_end_all_set
from accounts.user_data.services import user_delete
from common.failpoints import failpoint

NOT_IN_TRASH = "This user is not in the trash."
DUPLICATE_KEY = 11000
# The actor of the moves `check_integrity --repair` finishes for accounts in the trash without an
# entry (cut short by an older version, which wrote the entry last): nobody known.
REPAIR_ACTOR = ObjectId("0" * 24)
# The fields a trash move reads of a user.
MOVE_FIELDS = ("id", "in_trash", "trash_pending", "role", "is_active", "deleting")


def insert_once(collection, documents: list[dict]) -> set[int]:
    """Insert documents, leaving those whose unique key exists already; the indexes of those."""
    if not documents:
        return set()
    try:
        collection.insert_many(documents, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
        return {error["index"] for error in errors}
    return set()


def _users_mark_trashed(user_ids: list[ObjectId]) -> int:
    """Step 2: mark and revoke, atomically per user; returns how many were live until now. The
    same write ends every session of theirs (so the sessions list shows none after a restore);
    the Session documents go right after."""
    update = {"$set": {"in_trash": True, "trash_pending": True, "updated_at": now(), **sessions_end_all_set()}, "$inc": {"token_version": 1}}
    alive = {"_id": {"$in": user_ids}, "in_trash": {"$ne": True}, "deleting": {"$ne": True}}
    moved = User._get_collection().update_many(alive, update).modified_count
    failpoint("trash.marked")
    sessions_documents_delete(user_ids=user_ids)
    failpoint("trash.sessions_ended")
    # Every pending email token (reset, verification) goes too, as the tokens above: a link mailed
    # before the move must not work after a restore (issue 21). A restore voids them once more.
    email_tokens.tokens_void_for_users(user_ids=user_ids)
    return moved


def _entries_begin(users: list[User], *, actor_id: ObjectId, reason: str) -> dict[ObjectId, dict]:
    """Step 1: an entry for each user in the trash or going there. Returns the entries of the
    moves to do or finish: those written now (a user in the trash without one is a move cut short
    by an older version, finished by this actor) and, read back, those of moves cut short."""
    entries = [{"_id": ObjectId(), **TrashEntry(user=u.id, trashed_by=actor_id, reason=reason).to_mongo()} for u in users]
    existing = insert_once(TrashEntry._get_collection(), entries)
    failpoint("trash.entries")
    begun = {e["user"]: e for n, e in enumerate(entries) if n not in existing}
    unfinished = [u.id for n, u in enumerate(users) if n in existing and (not u.in_trash or u.trash_pending)]
    if unfinished:
        read = {e["user"]: e for e in TrashEntry._get_collection().find({"user": {"$in": unfinished}})}
        # An entry of a restore cut short after the account came out: that restore is finished
        # (its events, the entry gone) before this move begins with an entry of its own.
        restored = [u for u in users if u.id in read and read[u.id].get("restoring") and not u.in_trash]
        for user in restored:
            user_restore(user=user, actor=read.pop(user.id)["restoring_by"])
        begun.update(read)
        if restored:
            begun.update(_entries_begin(restored, actor_id=actor_id, reason=reason))
    return begun


def _moves_finish(entries: list[dict], *, ip: str | None = None) -> None:
    """Steps 3 and 4 for these entries' moves (their users marked already)."""
    if not entries:
        return
    audits = [{**AuditEvent(action="trash", actor_id=e["deleted_by"], target=e["user"], ip=ip, detail={"reason": e["reason"]}).to_mongo(), "_id": e["_id"]} for e in entries]
    insert_once(AuditEvent._get_collection(), audits)
    failpoint("trash.audited")
    insert_once(OutboxJob._get_collection(), [{**event_job("user.trashed", user_id=e["user"], data={}), "_id": e["_id"]} for e in entries])
    failpoint("trash.evented")
    user_ids = [e["user"] for e in entries]
    done = User._get_collection().update_many({"_id": {"$in": user_ids}, "deleting": {"$ne": True}}, {"$unset": {"trash_pending": ""}})
    if done.matched_count < len(user_ids):  # a chain delete began meanwhile: what it may have missed goes
        alive = set(User._get_collection().distinct("_id", {"_id": {"$in": user_ids}, "deleting": {"$ne": True}}))
        gone = [i for i in user_ids if i not in alive]
        for cls, field in ((AuditEvent, "target"), (OutboxJob, "user"), (TrashEntry, "user")):
            cls._get_collection().delete_many({field: {"$in": gone}})


def _trash_moves(users: list[User], *, actor_id: ObjectId, reason: str, ip: str | None = None) -> dict[ObjectId, dict]:
    """A trash move of each of `users`, or the rest of one cut short; the entries of the moves
    done or finished. 409 (before any write) if it would trash the last active admin."""
    fresh = [u for u in users if not u.in_trash]
    with active_admins_kept(leaving=fresh):
        entries = _entries_begin(users, actor_id=actor_id, reason=reason)
        to_mark = [u.id for u in fresh if u.id in entries]
        if to_mark:
            _users_mark_trashed(to_mark)
    pending = [u.id for u in users if u.in_trash and u.trash_pending and u.id in entries]
    if pending:  # cut short after the mark: the steps after it once more (each safe to repeat)
        sessions_documents_delete(user_ids=pending)
        email_tokens.tokens_void_for_users(user_ids=pending)
    _moves_finish(list(entries.values()), ip=ip)
    return entries


def user_trash(*, user: User, actor: User, reason: str, ip: str | None = None) -> bool:
    """Move an account to the trash: it cannot log in, every token it holds is refused for good,
    listings leave it out, its data and its username and email stay. False if it was in the
    trash already (and nothing was left to finish). 409 if it is the last active admin."""
    return bool(_trash_moves([user], actor_id=actor.id, reason=reason, ip=ip))


def trash_moves_unfinished(*, begun_before=None) -> dict[str, list[ObjectId]]:
    """The trash moves and restores cut short (`check_integrity`), as user ids: `trash_pending`
    (marked, events maybe missing), `trash_unmarked` (an entry, no mark, no restore begun),
    `trash_no_entry` (in the trash without an entry), `trash_restoring` (a restore begun).
    One query on the users, two on the entries.

    `begun_before` (a datetime): only the moves and restores begun before then, the others may
    still be running: a move by its entry's time (step 1) and its mark's `updated_at` (step 2), a
    restore by its intent's id. An account in the trash without an entry is never a step of a
    running move or restore (the entry comes first and goes last), so it is always listed."""
    users = User._get_collection()
    older_mark = {"updated_at": {"$lt": begun_before}} if begun_before else {}
    found = {"trash_pending": [r["_id"] for r in users.find({"trash_pending": True, **older_mark}, {"_id": 1})]}
    entries = list(TrashEntry._get_collection().find({}, {"user": 1, "restoring": 1}))
    trashed = set(users.distinct("_id", {"in_trash": True, "deleting": {"$ne": True}}))
    live = set(users.distinct("_id", {"_id": {"$in": [e["user"] for e in entries]}, "in_trash": {"$ne": True}, "deleting": {"$ne": True}}))
    with_entry = {e["user"] for e in entries}
    if begun_before:
        entries = [e for e in entries if (e.get("restoring") or e["_id"]).generation_time < begun_before]
    found["trash_restoring"] = [e["user"] for e in entries if e.get("restoring")]
    found["trash_unmarked"] = [e["user"] for e in entries if e["user"] in live and not e.get("restoring")]
    found["trash_no_entry"] = sorted(i for i in trashed if i not in with_entry)
    return found


def trash_moves_complete(found: dict[str, list[ObjectId]], *, actor_id: ObjectId) -> dict[str, int]:
    """Finish what `trash_moves_unfinished` found: moves with the actor and reason of their entry
    (`actor_id` and a reason saying so for an account in the trash without one), restores with
    theirs. A move that would leave no active admin stops with 409 (the account stays listed)."""
    done: dict[str, int] = {}
    move_ids = found.get("trash_pending", []) + found.get("trash_unmarked", []) + found.get("trash_no_entry", [])
    if move_ids:
        users = list(User.objects(id__in=move_ids, deleting__ne=True).only(*MOVE_FIELDS))
        done["trash moves"] = len(_trash_moves(users, actor_id=actor_id, reason="check_integrity --repair: in the trash without an entry"))
    restored = 0
    for user in User.objects(id__in=found.get("trash_restoring", []), deleting__ne=True).only(*MOVE_FIELDS):
        entry = TrashEntry._get_collection().find_one({"user": user.id})
        if entry is not None and entry.get("restoring"):
            user_restore(user=user, actor=entry.get("restoring_by"))
            restored += 1
    if restored:
        done["restores"] = restored
    return done


def user_restore(*, user: User, actor, ip: str | None = None) -> User:
    """Take an account out of the trash; 404 if it is not there. The tokens it held before the
    trash move stay refused: it logs in afresh. The intent first (on the entry), then the mark,
    the events, and the entry last, so that a crash anywhere leaves the account listed (in /trash,
    and in /users once out) and a second restore or `check_integrity --repair` finishes it."""
    # The mailed tokens of before the move die first: also those a crash between the move's own
    # writes left, or a reset mailed while the account was moving.
    email_tokens.tokens_void_for_users(user_ids=[user.id])
    actor_id = getattr(actor, "id", actor)
    entries = TrashEntry._get_collection()
    entry = entries.find_one_and_update(
        {"user": user.id, "restoring": None}, {"$set": {"restoring": ObjectId(), "restoring_by": actor_id}}, return_document=ReturnDocument.AFTER
    ) or entries.find_one({"user": user.id})  # a restore cut short: its intent stands
    failpoint("restore.intent")
    if entry is not None and user.trash_pending:  # the move itself was cut short: its events first
        _moves_finish([entry])
    user.in_trash, user.updated_at = False, now()
    unmarked = User._get_collection().update_one({"_id": user.id, "in_trash": True}, {"$set": {"in_trash": False, "updated_at": user.updated_at}, "$unset": {"trash_pending": ""}})
    if entry is None and not unmarked.modified_count:
        raise NotFound(NOT_IN_TRASH)
    failpoint("restore.unmarked")
    event_id = entry["restoring"] if entry else ObjectId()  # no entry: a move cut short by an older version
    with owner_guard(user.id) as guard:
        insert_once(AuditEvent._get_collection(), [{**AuditEvent(action="restore", actor_id=entry.get("restoring_by") if entry else actor_id, target=user.id, ip=ip).to_mongo(), "_id": event_id}])
        insert_once(OutboxJob._get_collection(), [{**event_job("user.restored", user_id=user.id, data={}), "_id": event_id}])
        guard.written(AuditEvent, {"_id": event_id})
        guard.written(OutboxJob, {"_id": event_id})
    failpoint("restore.recorded")
    if entry is not None:
        entries.delete_one({"_id": entry["_id"]})
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
    # A user being chain-deleted is gone already.
    found = {u.id: u for u in User.objects(id__in=valid, deleting__ne=True).only(*MOVE_FIELDS)}
    # The contract's keys: `deleted_now` are trashed by this call, `already_deleted` were in the trash.
    result: dict[str, list[str]] = {"deleted_now": [], "already_deleted": [], "not_found": []}
    for user_id in valid:
        user = found.get(user_id)
        key = "not_found" if user is None else "already_deleted" if user.in_trash else "deleted_now"
        result[key].append(str(user_id))
    result["not_found"] += invalid
    if found:
        _trash_moves(list(found.values()), actor_id=actor.id, reason=reason)
    return result


def user_purge(*, user: User, actor: User) -> dict[str, int]:
    """The permanent chain delete of a trashed account; 404 unless it is in the trash.
    The deletion record keeps the reason it was trashed for."""
    entry = TrashEntry.objects(user=user.id).first()
    if entry is None and not user.in_trash and not user.deleting:  # a purge cut short is finished
        raise NotFound(NOT_IN_TRASH)
    return user_delete(user=user, actor=actor, reason=entry.reason if entry else "")
