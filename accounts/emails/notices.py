"""Security notices: the owner is told, by mail to the account's address, after a change to how
the account is signed in to (OWASP ASVS 6.3.7): a password change or reset, two-factor turned on
or off (by the owner or an admin), new recovery codes. An address change has its own notice, to
the old address (`email_verification.email_changed`).

A notice goes through the service's one mail function (`mail.mail_enqueue`: a job in the outbox),
after the change was written, with the templates `email/security_notice_subject.txt`, `.txt` and `.html`, which a
deployer replaces as any other (`EMAIL_TEMPLATES_DIR`); the template is told which `event` it is
and when (`at`). A notice carries no link, token or code, and no username (issue 21: a username is
text anyone may choose, and mail goes to addresses nobody has proven yet).
"""
from accounts.emails import mail
from accounts.users.documents import User, now

PASSWORD_CHANGED = "password_changed"
PASSWORD_RESET = "password_reset"
MFA_ENABLED = "mfa_enabled"
MFA_DISABLED = "mfa_disabled"
MFA_RESET = "mfa_reset"
RECOVERY_CODES = "recovery_codes"
EVENTS = (PASSWORD_CHANGED, PASSWORD_RESET, MFA_ENABLED, MFA_DISABLED, MFA_RESET, RECOVERY_CODES)


def security_notice_send(*, user: User, event: str) -> None:
    """Queue the notice of `event` to the user's current address."""
    if event not in EVENTS:
        raise ValueError(f"unknown security notice {event!r}")
    mail.mail_enqueue(mail.NOTICE, user_id=user.id, context={"event": event, "at": now()})
