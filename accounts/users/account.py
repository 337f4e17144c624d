"""Changing an existing account: username, email and (admins only) role."""
from django.views.decorators.debug import sensitive_variables
from mongoengine import NotUniqueError
from rest_framework.exceptions import PermissionDenied

from accounts.events.webhooks import USER_FIELDS, event_emit
from accounts.users import identity, reauth
from accounts.users.documents import ROLE_ADMIN, User, casefold_key, now
from accounts.admin.admin_guard import active_admins_kept
from accounts.users.audit import audit_record
from accounts.emails.email_verification import email_changed
from accounts.users.registration import email_stored_form, unique_conflict

PROOF_FOR_EMAIL = "The current password is required to change the email."


@sensitive_variables("current_password", "code", "recovery_code", "proof")
def user_update(
    *,
    user: User,
    actor: User,
    ip: str | None = None,
    current_password: str | None = None,
    code: str | None = None,
    recovery_code: str | None = None,
    **fields,
) -> User:
    """Change username, email or (admins only) role. 409 when the name or email is taken.

    An email change by the account's owner passes the re-authentication gate first
    (`current_password`, or with two-factor on `code` or `recovery_code`: 400 without it or when
    wrong, and counted as a failed login by the lock-out), before anything else, so a
    stolen access token alone can neither move the account to another address, guess the
    password without limit, nor ask which addresses are taken. The new address is unverified;
    once the change is saved (the unique index on the address decided it: no two accounts ever
    hold one address, pending or not), it is mailed a verification link and the old one a notice
    (`email_verification.email_changed`). A change of the letter case of ASCII letters only is no
    change; a change that keeps only the case-folded key (`\u212aate@` for `kate@`) is one."""
    if "role" in fields and not actor.is_admin:
        raise PermissionDenied("Only an admin may change a role.")
    if fields.get("role", user.role) != user.role and actor.id == user.id:
        # So that the last admin cannot lock everybody out of the admin endpoints by accident.
        raise PermissionDenied("Admins cannot change their own role; ask another admin.")
    old_email = user.email
    new_email = email_stored_form(fields["email"]) if "email" in fields else user.email
    # Letter case in ASCII alone is no change; anything else is, even when the case-folded keys
    # agree (a KELVIN SIGN for a K): it is what later mail is sent to (identity.same_but_ascii_case).
    email_changes = not identity.same_but_ascii_case(user.email, new_email)
    if email_changes and actor.id == user.id:
        # The re-authentication gate: a wrong guess counts as a failed login (no way around the lock-out).
        proof = {"current_password": current_password, "code": code, "recovery_code": recovery_code}
        reauth.reauthenticate(user=user, action="email_change", ip=ip, missing=PROOF_FOR_EMAIL, **proof)
    old_role = user.role
    demoted = [user] if old_role == ROLE_ADMIN and fields.get("role", old_role) != ROLE_ADMIN else []
    if "username" in fields:
        user.username = identity.username_normalize(fields["username"])
        user.username_key = casefold_key(user.username)
        user.username_skeleton = identity.username_skeleton(user.username)
    if "email" in fields:
        user.email = new_email
        user.email_key = casefold_key(new_email)
    if email_changes:
        user.email_verified = False
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
    if email_changes:
        email_changed(user=user, old_email=old_email, actor=actor, ip=ip)
    event_emit("user.updated", user_id=user.id, data={name: getattr(user, name) for name in USER_FIELDS if name in fields or (name == "email_verified" and email_changes)})
    return user
