"""Changing an existing account: username, email and (admins only) role."""
from django.contrib.auth.hashers import check_password
from mongoengine import NotUniqueError
from rest_framework.exceptions import PermissionDenied, ValidationError

from accounts import lockout
from accounts.documents import User, casefold_key, now
from accounts.services.audit import audit_record
from accounts.services.email_verification import email_changed
from accounts.services.passwords import WRONG_PASSWORD
from accounts.services.registration import unique_conflict


def user_update(*, user: User, actor: User, ip: str | None = None, current_password: str | None = None, **fields) -> User:
    """Change username, email or (admins only) role. 409 when the name or email is taken.

    An email change by the account's owner needs `current_password` (400 without it or when
    wrong, and counted as a failed login by the lock-out), checked before anything else, so a
    stolen access token alone can neither move the account to another address, guess the
    password without limit, nor ask which addresses are taken. The new address is unverified;
    once the change is saved (the unique index on the address decided it: no two accounts ever
    hold one address, pending or not), it is mailed a verification link and the old one a notice
    (`email_verification.email_changed`). A change of letter case only is no change."""
    if "role" in fields and not actor.is_admin:
        raise PermissionDenied("Only an admin may change a role.")
    if fields.get("role", user.role) != user.role and actor.id == user.id:
        # So that the last admin cannot lock everybody out of the admin endpoints by accident.
        raise PermissionDenied("Admins cannot change their own role; ask another admin.")
    old_email = user.email
    email_changes = "email" in fields and casefold_key(fields["email"]) != user.email_key
    if email_changes and actor.id == user.id:
        if not current_password:
            raise ValidationError({"current_password": ["The current password is required to change the email."]})
        # A wrong guess here counts as a failed login, so this is no way around the lock-out.
        lockout.login_guard_check(email_key=user.email_key, ip=ip)
        if not check_password(current_password, user.password):
            lockout.login_failure_record(email_key=user.email_key, ip=ip, user_id=user.id)
            raise ValidationError({"current_password": [WRONG_PASSWORD]})
    old_role = user.role
    if "username" in fields:
        user.username = fields["username"]
        user.username_key = casefold_key(fields["username"])
    if "email" in fields:
        user.email = fields["email"]
        user.email_key = casefold_key(fields["email"])
    if email_changes:
        user.email_verified = False
    if "role" in fields:
        user.role = fields["role"]
    user.updated_at = now()
    try:
        user.save()
    except NotUniqueError:
        raise unique_conflict(email_key=user.email_key, username=user.username, exclude_id=user.id) from None
    if user.role != old_role:
        audit_record(action="role_change", actor=actor, target=user, ip=ip, old=old_role, new=user.role)
    if email_changes:
        email_changed(user=user, old_email=old_email, actor=actor, ip=ip)
    return user
