"""Changing an existing account: username, email and (admins only) role."""
from django.views.decorators.debug import sensitive_variables
from pymongo.errors import DuplicateKeyError
from rest_framework.exceptions import NotFound, PermissionDenied

from accounts.events.webhooks import USER_FIELDS, event_emit
from accounts.users import identity, reauth
from accounts.users.documents import ROLE_ADMIN, User, casefold_key, now
from accounts.admin.admin_guard import active_admins_kept
from accounts.users.audit import audit_record
from accounts.users.guard import NO_USER, alive_filter, owner_remains, owner_guard
from accounts.emails.email_verification import email_changed
from accounts.users.registration import email_stored_form, unique_conflict
from common.exceptions import Conflict


def _user_update_stored(*, user: User, old_role: str, changes: dict) -> None:
    """One conditional update of the stored user, never an upsert (MongoEngine's `save()` on a
    loaded document upserts: racing a chain delete, it re-created a user holding only the
    changed fields). It applies only while the user exists, is not being chain-deleted, and
    still has the role this change was decided on (the last-admin guard counted on it); else
    404 for a user gone, 409 for a role changed meanwhile."""
    query = alive_filter(user.id)
    if "role" in changes:
        query["role"] = old_role
    if User._get_collection().update_one(query, {"$set": changes}).matched_count:
        return
    if owner_remains(user_id=user.id):
        raise Conflict("The user changed meanwhile; read it again and retry.")
    raise NotFound(NO_USER)

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
    # Decided on the user as stored before this change: the guard below must see an admin leave.
    demoted = [user] if old_role == ROLE_ADMIN and fields.get("role", old_role) != ROLE_ADMIN else []
    changes: dict = {}
    if "username" in fields:
        username = identity.username_normalize(fields["username"])
        changes.update(username=username, username_key=casefold_key(username), username_skeleton=identity.username_skeleton(username))
    if "email" in fields:
        changes.update(email=new_email, email_key=casefold_key(new_email))
    if email_changes:
        changes["email_verified"] = False
    if "role" in fields:
        changes["role"] = fields["role"]
    changes["updated_at"] = now()
    try:
        with active_admins_kept(leaving=demoted):
            _user_update_stored(user=user, old_role=old_role, changes=changes)
    except DuplicateKeyError:
        raise unique_conflict(
            email_key=changes.get("email_key", user.email_key), username=changes.get("username", user.username), exclude_id=user.id
        ) from None
    for name, value in changes.items():
        setattr(user, name, value)
    # After the change: its audit event, webhook event and mails, proven against a racing chain
    # delete together, by one read at the end (accounts/users/guard.py).
    with owner_guard(user.id):
        if user.role != old_role:
            audit_record(action="role_change", actor=actor, target=user, ip=ip, old=old_role, new=user.role)
        if email_changes:
            email_changed(user=user, old_email=old_email, actor=actor, ip=ip)
        event_emit("user.updated", user_id=user.id, data={name: getattr(user, name) for name in USER_FIELDS if name in fields or (name == "email_verified" and email_changes)})
    return user
