"""Logging in: one password check, counted by the lock-out, answered with a session's token pair
or, for a user with two-factor on, with a request for the second factor; or a passkey alone."""
from dataclasses import dataclass

from django.views.decorators.debug import sensitive_variables
from django.contrib.auth.hashers import check_password, make_password
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.users import lockout
from accounts.users.documents import User
from accounts.users.identity import email_keys_for_lookup
from accounts.mfa import two_factor
from accounts.mfa.passkeys.sign_in import passkey_login_check
from accounts.users.audit import audit_record
from accounts.emails.email_verification import login_verification_check
from accounts.users.passwords import dummy_hash
from accounts.sessions.tokens import token_pair_for

INVALID_LOGIN = "Invalid email or password."


@dataclass
class LoginOutcome:
    """A login that passed the password check: either tokens (`refresh`), or, for a user with
    two-factor on, an `mfa_token` to present with a code at POST /auth/mfa."""

    user: User
    refresh: RefreshToken | None = None
    mfa_token: str | None = None
    # The second factors the user can answer with (`totp`, `webauthn`, `recovery_code`).
    mfa_methods: list[str] | None = None


def mfa_methods(*, user: User) -> list[str]:
    """The second factors of a user with two-factor on: the TOTP code, a passkey if they have
    one (accounts/mfa/passkeys), a recovery code."""
    return ["totp", *(["webauthn"] if getattr(user, "passkeys_count", 0) else []), "recovery_code"]


@sensitive_variables("password", "outcome")
def user_login(*, email: str, password: str, ip: str, user_agent: str = "") -> LoginOutcome:
    """Check a password and begin a session (or, with two-factor on, ask for the second factor).

    Every failure (unknown email, wrong password, inactive or trashed account) is the same 401
    and costs one hash, so neither the answer nor its timing tells which emails exist. Failures
    are counted per account and per address; past the limit the answer is 429. A hash from an
    older hasher is upgraded to the preferred one (Argon2) on success. For a user with
    two-factor on, the right password yields no tokens but a short-lived, single-use mfa_token,
    and the failure counter is cleared only once the second factor is right too. With
    EMAIL_VERIFICATION=mandatory, an unverified account is refused (403) after the right password,
    before any second factor.
    """
    # The current key first; accounts stored before the email rules may hold the older one.
    keys = email_keys_for_lookup(email)
    email_key = keys[0]
    counts = lockout.login_guard_check(email_key=email_key, ip=ip)
    user = User.objects(email_key__in=keys).first()
    if user is None:
        dummy_hash()
        ok = False
    else:

        def upgrade(raw: str) -> None:
            user.password = make_password(raw)
            User.objects(id=user.id).update_one(set__password=user.password)

        ok = check_password(password, user.password, setter=upgrade) and user.is_active and not user.in_trash
    if not ok:
        lockout.login_failure_record(email_key=email_key, ip=ip, user_id=user.id if user else None)
        audit_record(action="login_failed", target=user, ip=ip)
        raise AuthenticationFailed(INVALID_LOGIN)
    login_verification_check(user=user)  # EMAIL_VERIFICATION=mandatory: 403 past the right password
    if user.mfa_enabled:
        audit_record(action="login_password_ok", actor=user, target=user, ip=ip, mfa="pending")
        return LoginOutcome(user=user, mfa_token=two_factor.mfa_token_issue(user=user), mfa_methods=mfa_methods(user=user))
    lockout.login_failures_clear(email_key=email_key, ip=ip, counts=counts)
    audit_record(action="login", actor=user, target=user, ip=ip)
    return LoginOutcome(user=user, refresh=token_pair_for(user, ip=ip, user_agent=user_agent))


def passkey_login(*, ceremony: str, credential: dict, ip: str, user_agent: str = "") -> LoginOutcome:
    """Sign in with a passkey alone (accounts/mfa/passkeys/sign_in.py checks the passkey, with the
    lock-out), then as a password login: EMAIL_VERIFICATION=mandatory (403), the lock-out's
    count of this address cleared, audit, a session. No second factor even with two-factor on:
    a passkey with user verification is two factors already."""
    user, counts = passkey_login_check(ceremony=ceremony, credential=credential, ip=ip)
    login_verification_check(user=user)
    lockout.login_failures_clear(email_key=user.email_key, ip=ip, counts=counts)
    audit_record(action="login", actor=user, target=user, ip=ip, factor="passkey")
    return LoginOutcome(user=user, refresh=token_pair_for(user, ip=ip, user_agent=user_agent))


@sensitive_variables("raw_token", "code", "recovery_code")
def mfa_login(
    *, raw_token: str, code: str | None = None, recovery_code: str | None = None, webauthn: tuple[str, dict] | None = None, ip: str, user_agent: str = ""
) -> LoginOutcome:
    """The second step of a two-factor login (see accounts/mfa/two_factor.py): with a right
    code, an unused recovery code or a passkey's answer, the mfa_token is spent and a session begins."""
    user = two_factor.mfa_second_factor_check(raw_token=raw_token, code=code, recovery_code=recovery_code, webauthn=webauthn, ip=ip)
    return LoginOutcome(user=user, refresh=token_pair_for(user, ip=ip, user_agent=user_agent))
