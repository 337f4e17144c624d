"""Admins: making one by command (`createadmin`) and the first one at start-up from ADMIN_*."""
import logging

from django.conf import settings
from rest_framework.exceptions import ValidationError

from accounts.events.webhooks import event_emit
from accounts.users.documents import ROLE_ADMIN, User, now
from accounts.users.guard import owner_guard
from accounts.users.selectors import user_by_email
from accounts.admin.admin_guard import active_admin_filter
from accounts.users.audit import audit_record
from accounts.users.registration import user_register
from common.exceptions import Conflict

logger = logging.getLogger(__name__)


def admin_create(*, username: str, email: str, password: str | None) -> tuple[User, bool]:
    """Make the user with this email an admin, or create one. Returns (user, created)."""
    user = user_by_email(email)
    if user is not None:
        old_role = user.role
        if old_role == ROLE_ADMIN:
            return user, False  # an admin already: nothing changes, nothing to record or tell
        # Conditional on the role read: of two promotions at once, one records the change.
        changed = User._get_collection().update_one({"_id": user.id, "role": old_role}, {"$set": {"role": ROLE_ADMIN, "updated_at": now()}})
        user.reload()
        if changed.modified_count:
            # As PATCH /users/{id} does for a role change: the audit event and `user.updated`,
            # proven together against a racing chain delete (accounts/users/guard.py).
            with owner_guard(user.id):
                audit_record(action="role_change", target=user, old=old_role, new=ROLE_ADMIN, via="createadmin")
                event_emit("user.updated", user_id=user.id, data={"role": ROLE_ADMIN})
        return user, False
    if not password:
        raise ValidationError({"password": ["A password is needed to create a new admin."]})
    # The operator vouches for the address: an admin is never locked out by verification.
    return user_register(username=username, email=email, password=password, role=ROLE_ADMIN, email_verified=True), True


def admin_bootstrap_from_env() -> User | None:
    """At start-up: with ADMIN_USERNAME, ADMIN_EMAIL and ADMIN_PASSWORD set and no admin in the
    database, create that admin (as Keycloak's first-admin variables do)."""
    if not (settings.ADMIN_USERNAME and settings.ADMIN_EMAIL and settings.ADMIN_PASSWORD):
        return None
    # A trashed or deactivated admin is no admin: nobody could use it to sign in.
    if User._get_collection().find_one(active_admin_filter(), {"_id": 1}) is not None:
        return None
    try:
        user = user_register(
            username=settings.ADMIN_USERNAME,
            email=settings.ADMIN_EMAIL,
            password=settings.ADMIN_PASSWORD,
            role=ROLE_ADMIN,
            email_verified=True,
        )
    except (ValidationError, Conflict) as exc:
        logger.error("ADMIN_* is set but the first admin could not be created: %s", exc.detail)
        return None
    logger.warning("Created the first admin %r from ADMIN_USERNAME/ADMIN_EMAIL/ADMIN_PASSWORD.", user.username)
    return user
