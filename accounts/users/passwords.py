"""Passwords: Django's validators without an ORM user, the dummy hash, and changing a password."""
import secrets
from types import SimpleNamespace

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.views.decorators.debug import sensitive_variables
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError

from accounts.users.guard import owner_guard
from accounts.users import reauth
from accounts.users.documents import User, now
from accounts.emails import email_tokens, notices
from accounts.users.audit import audit_record
from accounts.sessions.services import sessions_documents_delete, sessions_end_all_set
from common.client_ip import UNKNOWN


class _PasswordOwner(SimpleNamespace):
    """What Django's UserAttributeSimilarityValidator reads from a user, without an ORM model."""

    class _meta:  # noqa: N801 - the validator reads `user._meta.get_field(name).verbose_name`
        @staticmethod
        def get_field(name: str):
            return SimpleNamespace(verbose_name=name)


@sensitive_variables("password")
def password_validate(password: str, *, username: str, email: str, field: str = "password") -> None:
    """Django's password validators (length, common, numeric, similarity), as a 400 on `field`."""
    try:
        validate_password(password, user=_PasswordOwner(username=username, email=email))
    except DjangoValidationError as exc:
        raise ValidationError({field: list(exc.messages)}) from exc


def dummy_hash() -> None:
    """Run the hasher once so a login for an unknown email costs what a real one does."""
    make_password(secrets.token_urlsafe(12))


@sensitive_variables("proof", "new_password")
def user_password_change(*, user: User, new_password: str, ip: str = UNKNOWN, **proof: str | None) -> None:
    """Set a new password and end every session of the user, so every token they hold, access
    tokens and a login's pending mfa_token included, is refused at once; a pending password-reset
    token is voided too, and the owner is mailed a notice.

    First the re-authentication gate (accounts/users/reauth.py) with `proof` (`current_password`,
    or with two-factor on `code` or `recovery_code`): a wrong one counts as a failed login, and
    the lock-out applies (429), so a stolen access token is no way to guess the password faster."""
    reauth.reauthenticate(user=user, action="password_change", ip=ip, **proof)
    password_validate(new_password, username=user.username, email=user.email, field="new_password")
    # The new password, the end of every session and a new `token_version` in one atomic update:
    # no moment when the old sessions, or an mfa_token taken with the old password (its `ver`
    # claim), outlive the old password.
    User._get_collection().update_one(
        {"_id": user.id},
        {"$set": {"password": make_password(new_password), "updated_at": now(), **sessions_end_all_set()}, "$inc": {"token_version": 1}},
    )
    # After the change: its audit event, webhook event and mails, proven against a racing chain
    # delete together, by one read at the end (accounts/users/guard.py).
    with owner_guard(user.id):
        sessions_documents_delete(user_ids=[user.id])
        # A reset link still in a mailbox must not outlive the password it was meant to replace.
        email_tokens.tokens_void(user_id=user.id, purpose=email_tokens.RESET)
        audit_record(action="password_change", actor=user, target=user, ip=ip)
        notices.security_notice_send(user=user, event=notices.PASSWORD_CHANGED)
