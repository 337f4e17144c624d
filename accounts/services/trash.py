"""The trash: reversible (the API calls it a soft delete). A trashed account cannot log in, its tokens fail,
listings leave it out, and its data, username and email stay until it is restored or purged."""
from bson import ObjectId
from mongoengine import NotUniqueError
from rest_framework.exceptions import NotFound

from accounts.documents import AuditEvent, TrashEntry, User, now
from accounts.services.audit import audit_record
from accounts.services.user_data import user_delete

NOT_IN_TRASH = "This user is not in the trash."


def user_trash(*, user: User, actor: User, reason: str, ip: str | None = None) -> bool:
    """Move an account to the trash: it cannot log in, its tokens fail, listings leave it out,
    its data and its username and email stay. False if it was in the trash already."""
    try:
        TrashEntry(user=user.id, trashed_by=actor.id, reason=reason).save(force_insert=True)
    except NotUniqueError:
        return False
    User.objects(id=user.id).update_one(set__in_trash=True, set__updated_at=now())
    audit_record(action="trash", actor=actor, target=user, ip=ip, reason=reason)
    return True


def user_restore(*, user: User, actor: User, ip: str | None = None) -> User:
    """Take an account out of the trash; 404 if it is not there."""
    if not TrashEntry.objects(user=user.id).delete():
        raise NotFound(NOT_IN_TRASH)
    user.in_trash, user.updated_at = False, now()
    User.objects(id=user.id).update_one(set__in_trash=False, set__updated_at=user.updated_at)
    audit_record(action="restore", actor=actor, target=user, ip=ip)
    return user


def users_trash_bulk(*, ids: list[str], actor: User, reason: str) -> dict[str, list[str]]:
    """Move many accounts to the trash at once (at most 1000 ids; a few queries in all)."""
    wanted = list(dict.fromkeys(ids))
    valid = [ObjectId(i) for i in wanted if ObjectId.is_valid(i)]
    found = {u.id: u for u in User.objects(id__in=valid).only("id", "in_trash")}
    # The contract's keys: `deleted_now` are trashed by this call, `already_deleted` were in the trash.
    result: dict[str, list[str]] = {"deleted_now": [], "already_deleted": [], "not_found": []}
    fresh = []
    for raw in wanted:
        user = found.get(ObjectId(raw)) if ObjectId.is_valid(raw) else None
        if user is None:
            result["not_found"].append(raw)
        elif user.in_trash:
            result["already_deleted"].append(raw)
        else:
            fresh.append(user.id)
    if fresh:
        entries = [TrashEntry(user=i, trashed_by=actor.id, reason=reason).to_mongo() for i in fresh]
        TrashEntry._get_collection().insert_many(entries, ordered=False)
        User.objects(id__in=fresh).update(set__in_trash=True, set__updated_at=now())
        AuditEvent._get_collection().insert_many(
            [AuditEvent(action="trash", actor_id=actor.id, target=i, detail={"reason": reason}).to_mongo() for i in fresh]
        )
    result["deleted_now"] = [str(i) for i in fresh]
    return result


def user_purge(*, user: User, actor: User) -> dict[str, int]:
    """The permanent chain delete of a trashed account; 404 unless it is in the trash.
    The deletion record keeps the reason it was trashed for."""
    entry = TrashEntry.objects(user=user.id).first()
    if entry is None:
        raise NotFound(NOT_IN_TRASH)
    return user_delete(user=user, actor=actor, reason=entry.reason)
