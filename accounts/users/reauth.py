"""The one re-authentication gate. Every sensitive change asks the caller, already signed in, to
prove again that they are the person, here and nowhere else (as django-allauth's one
reauthentication flow does): changing the password, changing the email (the owner), turning TOTP
on or off, new recovery codes. A stolen access token alone passes none of them.

- The proof is the account's current password, or, with two-factor on, a TOTP code or an unused
  recovery code (`ReauthInput` in accounts/users/serializers.py is its shape). A code is accepted
  once, as at login (the TOTP step is raised, the recovery code pulled, atomically).
- The lock-out is login's own (accounts/users/lockout.py), counted exactly as a login counts:
  checked first (past the limit the answer is its 429 with Retry-After, even for the right
  proof), a wrong proof is one failure of the account from this address, and a right one clears
  this address's failures. So no endpoint is a faster way to guess the password than the login.
- A wrong proof is a 400 on its field, audited as `<action>_failed`.

To add a way through (a passkey assertion, issue 23): a keyword here and a branch in
`_proof_accepted`; every endpoint that asks for a proof then takes it.
"""
from django.contrib.auth.hashers import check_password
from rest_framework.exceptions import ValidationError

from accounts.mfa import factors
from accounts.users import lockout
from accounts.users.audit import audit_record
from accounts.users.documents import User
from common.client_ip import UNKNOWN

WRONG_PASSWORD = "The current password is not correct."
PROOF_REQUIRED = "This field is required."


def _proof_accepted(user: User, *, current_password: str | None, code: str | None, recovery_code: str | None) -> tuple[str, bool]:
    """(the field of the proof given, whether it is right). The password when given, else a code."""
    if current_password:
        return "current_password", check_password(current_password, user.password)
    field = "code" if code else "recovery_code"
    return field, user.mfa_enabled and factors.second_factor_accept(user=user, code=code, recovery_code=recovery_code)


def reauthenticate(
    *,
    user: User,
    action: str,
    ip: str | None = None,
    current_password: str | None = None,
    code: str | None = None,
    recovery_code: str | None = None,
    missing: str = PROOF_REQUIRED,
) -> None:
    """Let `user` through to the sensitive change `action` (an audit name: `password_change`,
    `email_change`, `totp_enrol`, `totp_disable`, `recovery_codes`) or raise: 429 when the
    lock-out holds the account at this address, 400 `{"current_password": [missing]}` without any
    proof, 400 on the proof's field when it is wrong (counted as a failed login)."""
    ip = ip or UNKNOWN
    if not (current_password or code or recovery_code):
        raise ValidationError({"current_password": [missing]})
    # The attempt is counted before the proof is checked (atomic: 5 means 5 under parallel guesses).
    attempt = lockout.login_attempt_reserve(email_key=user.email_key, ip=ip, user_id=user.id)
    field, accepted = _proof_accepted(user, current_password=current_password, code=code, recovery_code=recovery_code)
    if not accepted:
        audit_record(action=f"{action}_failed", actor=user, target=user, ip=ip, factor=field)
        raise ValidationError({field: [WRONG_PASSWORD if field == "current_password" else factors.INVALID_CODE]})
    lockout.login_attempt_succeeded(attempt)
