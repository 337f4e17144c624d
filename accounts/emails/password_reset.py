"""Password reset by email: the request, and the confirm step with the token from the mail.

Guarantees:
- `password_reset_request` answers the same thing in the same time whatever the address: it
  only writes a job to the outbox (`mail.mail_enqueue`) and returns, so neither the answer nor its timing
  depends on whether an account uses the address, is trashed or deactivated. The queued job
  looks the address up and, for a live account, issues a token (`email_tokens`: 256 bits,
  hashed, single use, expiring after `PASSWORD_RESET_MINUTES`, voiding any earlier one) and
  mails it. At most `PASSWORD_RESET_MAILS_PER_HOUR` mails go to one account per hour (counted
  in MongoDB, shared by every process: `common.throttling`), so nobody can flood someone's mailbox through this endpoint.
- `password_reset_confirm` checks the token, checks the new password with Django's validators
  (a refused password leaves the token usable), then spends the token (of two concurrent
  confirms exactly one wins), sets the password and ends every session of the user in the same
  atomic update (`sessions.sessions_end_all_set`), so every token of the user is refused at once, clears the account's login lock-out, marks the
  address verified (the mail reached it) and records an audit event.
- Any password change voids a pending reset token (`passwords.user_password_change`), and so
  does an email change (`email_verification.email_changed`).
"""
import logging
from datetime import timedelta

from django.views.decorators.debug import sensitive_variables
from django.conf import settings
from django.contrib.auth.hashers import make_password
from rest_framework.exceptions import ValidationError

from accounts.users.guard import owner_guard
from accounts.users import lockout
from accounts.emails import mail
from accounts.users.documents import User, casefold_key, now
from accounts.users.selectors import user_by_email
from accounts.emails import email_tokens, notices
from accounts.sessions.services import sessions_documents_delete, sessions_end_all_set
from accounts.users.audit import audit_record
from accounts.emails.email_tokens import INVALID_TOKEN, duration_text, link_for
from accounts.users.passwords import password_validate
from common.throttling import limit_hit

logger = logging.getLogger(__name__)

RESET_SENT = "If an account uses this email, a reset link has been sent."


def password_reset_request(*, email: str, ip: str | None = None) -> None:
    """Queue the reset for `email` and return; nothing about the address is learned here."""
    mail.mail_enqueue(mail.RESET, email=email, ip=ip)


def _mail_allowed(user_id) -> bool:
    return limit_hit(f"password-reset-mails:{user_id}", settings.PASSWORD_RESET_MAILS_PER_HOUR, 3600)


def password_reset_mail(*, email: str, ip: str | None, send) -> None:
    """The worker's part (accounts/events/mail_jobs.py): look the address up and `send` a live
    account a token. A failed send raises, and the job is retried."""
    user = user_by_email(email)  # as login finds it
    if user is None or not user.is_active or user.in_trash or user.deleting:
        return
    if not _mail_allowed(user.id):
        logger.warning("password reset mail to user %s not sent: hourly limit reached", user.id)
        return
    lifetime = timedelta(minutes=settings.PASSWORD_RESET_MINUTES)
    token = email_tokens.token_issue(user_id=user.id, purpose=email_tokens.RESET, email=user.email, lifetime=lifetime)
    audit_record(action="password_reset_request", target=user, ip=ip)
    context = {"link": link_for(settings.PASSWORD_RESET_URL, token), "valid_for": duration_text(lifetime)}
    send(kind="password_reset", to=user.email, context=context)


@sensitive_variables("token", "new_password", "record", "changes")
def password_reset_confirm(*, token: str, new_password: str, ip: str | None = None) -> None:
    """Set a new password with a reset token (see the module's guarantees). 400 `{"token":
    [...]}` for a bad, used or expired token or an account that cannot log in any more;
    400 `{"new_password": [...]}` for a password the validators refuse."""
    record = email_tokens.token_find(token=token, purpose=email_tokens.RESET)
    user = User.objects(id=record["user"]).first() if record else None
    if user is None or not user.is_active or user.in_trash or user.deleting:
        raise ValidationError({"token": [INVALID_TOKEN]})
    password_validate(new_password, username=user.username, email=user.email, field="new_password")
    if not email_tokens.token_spend(record):
        raise ValidationError({"token": [INVALID_TOKEN]})
    # The new password and the end of every session in one atomic update (as a password change).
    changes = {"password": make_password(new_password), "updated_at": now(), **sessions_end_all_set()}
    if casefold_key(record["email"]) == user.email_key:
        changes["email_verified"] = True
    # ... and a new `token_version`: an mfa_token taken with the old password dies with it.
    User._get_collection().update_one({"_id": user.id}, {"$set": changes, "$inc": {"token_version": 1}})
    # After the change: its audit event, webhook event and mails, proven against a racing chain
    # delete together, by one read at the end (accounts/users/guard.py).
    with owner_guard(user.id):
        sessions_documents_delete(user_ids=[user.id])
        lockout.login_lockout_clear(email_key=user.email_key, user_id=user.id)
        audit_record(action="password_reset", actor=user, target=user, ip=ip)
        notices.security_notice_send(user=user, event=notices.PASSWORD_RESET)


mail.mail_composer_register(mail.RESET, lambda payload, user, send: password_reset_mail(email=payload["email"], ip=payload.get("ip"), send=send))
