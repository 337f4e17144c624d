"""Email verification: the mail with a link, the verify step, the rule at login, and what an
email change sets off.

Guarantees:
- A new account (`registration.user_sign_up`) starts unverified and, unless `EMAIL_VERIFICATION`
  is `none`, is mailed a link holding a token (`email_tokens`: hashed, single use, expiring after
  `EMAIL_VERIFICATION_HOURS`, voided by the next one). The mail is queued after the writes.
- `email_verify` marks the address verified only if it is still the account's address: a link
  sent to an address the account has left since verifies nothing.
- With `EMAIL_VERIFICATION=mandatory` an unverified account is refused at login with 403 after
  the right password (never before, so the answer reveals nothing to a guesser), and a fresh link
  is mailed at most every 10 minutes, so someone whose link expired is never stuck.
- Accounts stored before verification existed (no `email_verified` field), imported ones and
  admins made by `createadmin` or `ADMIN_*` count as verified.
"""
from datetime import timedelta

from django.conf import settings
from rest_framework.exceptions import PermissionDenied, ValidationError

from accounts.users.guard import owner_guard
from accounts.emails import mail
from accounts.events.webhooks import event_emit
from accounts.users.documents import User, casefold_key, now
from accounts.emails import email_tokens
from accounts.emails.email_tokens import INVALID_TOKEN, duration_text, link_for
from accounts.users.audit import audit_record
from common.exceptions import Conflict
from common.throttling import limit_hit

# How often a refused login may mail a fresh verification link to one account.
LOGIN_RESEND_SECONDS = 600


class EmailNotVerified(PermissionDenied):
    """403 `{"detail": "Email address is not verified.", "code": "email_not_verified"}`."""

    default_detail = "Email address is not verified."
    default_code = "email_not_verified"

    def __init__(self):
        super().__init__()
        self.extra = {"code": self.default_code}  # rendered beside "detail" (config.exceptions)


def verification_mail(*, user: User, send) -> None:
    """The worker's part (accounts/events/mail_jobs.py): issue a token for the user's current
    address (voiding any older one) and `send` the mail with its link. A retry issues a fresh
    token, so only the last mail's link works."""
    lifetime = timedelta(hours=settings.EMAIL_VERIFICATION_HOURS)
    token = email_tokens.token_issue(user_id=user.id, purpose=email_tokens.VERIFY, email=user.email, lifetime=lifetime)
    context = {
        "email": user.email,
        "link": link_for(settings.EMAIL_VERIFY_URL, token),
        "valid_for": duration_text(lifetime),
    }
    send(kind="verify_email", to=user.email, context=context)


def verification_send(*, user: User) -> None:
    """Write the verification mail's job to the outbox (one round trip); a worker issues the
    token and sends it."""
    mail.mail_enqueue(mail.VERIFY, user_id=user.id)


def verification_resend(*, user: User) -> None:
    """Mail a fresh link (voiding the previous one); 409 if the address is verified already."""
    if user.email_verified:
        raise Conflict("Email address is already verified.")
    verification_send(user=user)


def email_verify(*, token: str, ip: str | None = None) -> None:
    """Spend a verification token and mark its address verified. 400 `{"token": [...]}` for a
    bad, used or expired token, or one whose address the account no longer has. Audited.
    Three round trips (find, spend, update) and the audit record."""
    record = email_tokens.token_find(token=token, purpose=email_tokens.VERIFY)
    if record is None or not email_tokens.token_spend(record):
        raise ValidationError({"token": [INVALID_TOKEN]})
    updated = User.objects(id=record["user"], email_key=casefold_key(record["email"]), in_trash=False).update_one(
        set__email_verified=True, set__updated_at=now()
    )
    if not updated:
        raise ValidationError({"token": [INVALID_TOKEN]})
    # After the change: its audit event, webhook event and mails, proven against a racing chain
    # delete together, by one read at the end (accounts/users/guard.py).
    with owner_guard(record["user"]):
        audit_record(action="email_verified", actor=record["user"], target=record["user"], ip=ip)
        event_emit("user.email_verified", user_id=record["user"], data={"email": record["email"]})


def login_verification_check(*, user: User) -> None:
    """At login, after the right password: with EMAIL_VERIFICATION=mandatory, refuse an
    unverified account (403), mailing a fresh link at most every LOGIN_RESEND_SECONDS."""
    if settings.EMAIL_VERIFICATION != "mandatory" or user.email_verified:
        return
    if limit_hit(f"email-verify-on-login:{user.id}", 1, LOGIN_RESEND_SECONDS):
        verification_send(user=user)
    raise EmailNotVerified()


def email_changed(*, user: User, old_email: str, actor: User, ip: str | None = None) -> None:
    """After an account's address changed (and the change was saved): void its reset tokens
    (mailed to the old address), mail a verification link to the new address (unless
    EMAIL_VERIFICATION is none) and a notice, with no link or token, to the old one. Audited."""
    email_tokens.tokens_void(user_id=user.id, purpose=email_tokens.RESET)
    if settings.EMAIL_VERIFICATION != "none":
        verification_send(user=user)
    mail.mail_enqueue(mail.CHANGED, user_id=user.id, to=old_email, context={"changed_at": now()})
    audit_record(action="email_change", actor=actor, target=user, ip=ip)


mail.mail_composer_register(mail.VERIFY, lambda payload, user, send: verification_mail(user=user, send=send))
