"""External ids linked to a user; each id is held by one user at most (a unique index)."""
from mongoengine import NotUniqueError
from rest_framework.exceptions import NotFound

from accounts.users.documents import LinkedId, User
from common.exceptions import Conflict


def linked_id_add(*, user: User, linked_id: str) -> LinkedId:
    """Link an external id. Linking it again to the same user is a no-op; an id held by
    another user is a 409 (decided by the unique index, so races have one winner). 404 when the
    user is being chain-deleted meanwhile; the link is then removed again, no orphan is left."""
    try:
        link = LinkedId(linked_id=linked_id, user=user.id).save(force_insert=True)
    except NotUniqueError:
        existing = LinkedId.objects(linked_id=linked_id).first()
        if existing is not None and existing.user.id == user.id:
            return existing
        raise Conflict("This linked id belongs to another user.") from None
    # A user chain-deleted meanwhile: the owner guard (accounts/users/guard.py) has removed it (404).
    return link


def linked_id_remove(*, user: User, linked_id: str) -> None:
    """Unlink an external id from this user; 404 if the user does not hold it."""
    if not LinkedId.objects(user=user.id, linked_id=linked_id).delete():
        raise NotFound("This user has no such linked id.")
