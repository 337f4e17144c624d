"""Changing an existing account: username, email and (admins only) role."""
from mongoengine import NotUniqueError
from rest_framework.exceptions import PermissionDenied

from accounts import identity
from accounts.documents import ROLE_ADMIN, User, casefold_key, now
from accounts.services.admin_guard import active_admins_kept
from accounts.services.audit import audit_record
from accounts.services.registration import email_stored_form, unique_conflict


def user_update(*, user: User, actor: User, ip: str | None = None, **fields) -> User:
    """Change username, email or (admins only) role. 409 when the name or email is taken."""
    if "role" in fields and not actor.is_admin:
        raise PermissionDenied("Only an admin may change a role.")
    if fields.get("role", user.role) != user.role and actor.id == user.id:
        # So that the last admin cannot lock everybody out of the admin endpoints by accident.
        raise PermissionDenied("Admins cannot change their own role; ask another admin.")
    old_role = user.role
    demoted = [user] if old_role == ROLE_ADMIN and fields.get("role", old_role) != ROLE_ADMIN else []
    if "username" in fields:
        user.username = identity.username_normalize(fields["username"])
        user.username_key = casefold_key(user.username)
        user.username_skeleton = identity.username_skeleton(user.username)
    if "email" in fields:
        user.email = email_stored_form(fields["email"])
        user.email_key = casefold_key(user.email)
    if "role" in fields:
        user.role = fields["role"]
    user.updated_at = now()
    try:
        with active_admins_kept(leaving=demoted):
            user.save()
    except NotUniqueError:
        raise unique_conflict(email_key=user.email_key, username=user.username, exclude_id=user.id) from None
    if user.role != old_role:
        audit_record(action="role_change", actor=actor, target=user, ip=ip, old=old_role, new=user.role)
    return user
