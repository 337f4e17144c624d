"""Changing an existing account: username, email and (admins only) role."""
from mongoengine import NotUniqueError
from rest_framework.exceptions import PermissionDenied

from accounts.documents import User, casefold_key, now
from accounts.services.audit import audit_record
from accounts.services.registration import unique_conflict


def user_update(*, user: User, actor: User, ip: str | None = None, **fields) -> User:
    """Change username, email or (admins only) role. 409 when the name or email is taken."""
    if "role" in fields and not actor.is_admin:
        raise PermissionDenied("Only an admin may change a role.")
    if fields.get("role", user.role) != user.role and actor.id == user.id:
        # So that the last admin cannot lock everybody out of the admin endpoints by accident.
        raise PermissionDenied("Admins cannot change their own role; ask another admin.")
    old_role = user.role
    if "username" in fields:
        user.username = fields["username"]
        user.username_key = casefold_key(fields["username"])
    if "email" in fields:
        user.email = fields["email"]
        user.email_key = casefold_key(fields["email"])
    if "role" in fields:
        user.role = fields["role"]
    user.updated_at = now()
    try:
        user.save()
    except NotUniqueError:
        raise unique_conflict(email_key=user.email_key, username=user.username, exclude_id=user.id) from None
    if user.role != old_role:
        audit_record(action="role_change", actor=actor, target=user, ip=ip, old=old_role, new=user.role)
    return user
