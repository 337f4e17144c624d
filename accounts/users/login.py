"""Logging in: one password check, counted by the lock-out, answered with a session's token pair
or, for a user with two-factor on, with a request for the second factor (an `mfa_token` from
accounts/mfa/two_factor.py, which takes the second step, `mfa_login`, from there on); or a
passkey alone."""
from contextlib import nullcontext

from django.views.decorators.debug import sensitive_variables
from django.contrib.auth.hashers import check_password, make_password
from rest_framework.exceptions import AuthenticationFailed

from accounts.users import lockout
from accounts.users.documents import User
from accounts.users.guard import owner_guard
from accounts.users.identity import email_keys_for_lookup
from accounts.users.selectors import user_by_email_for_login
from accounts.mfa import two_factor
from accounts.mfa.passkeys.sign_in import passkey_login_check
from accounts.users.audit import audit_log, audit_record, audit_write
from accounts.emails.email_verification import login_verification_check
from accounts.users.passwords import dummy_hash
from accounts.sessions.tokens import LoginOutcome, login_outcome
from common import metrics
from common.throttling import RateHit

INVALID_LOGIN = "Invalid email or password."


@sensitive_variables("password", "outcome")
def user_login(*, email: str, password: str, ip: str, user_agent: str = "", rate: RateHit | None = None) -> LoginOutcome:
    """Check a password and begin a session (or, with two-factor on, ask for the second factor).

    Every failure (unknown email, wrong password, inactive or trashed account) is the same 401
    and costs one hash, so neither the answer nor its timing tells which emails exist. Failures
    are counted per account and per address; past the limit the answer is 429. A hash from an
    older hasher is upgraded to the preferred one (Argon2) on success. For a user with
    two-factor on, the right password yields no tokens but a short-lived, single-use mfa_token,
    and the failure counter is cleared only once the second factor is right too. With
    EMAIL_VERIFICATION=mandatory, an unverified account is refused (403) after the right password,
    before any second factor. `rate`: POST /login's rate-limit hit, counted with the lock-out's
    (common/throttling.py's `DeferredThrottle`).

    Round trips of a login that succeeds: 3. The user, with their live sessions (one aggregate);
    the rate limit's hit and the lock-out's two counters (one `bulkWrite`: common/batch.py);
    after the hash, the lock-out's counters handed back, the audit event, the session and the
    user's list of sessions (one `bulkWrite`, whose last write proves the owner). On a server
    before MongoDB 8.0 each write of a `bulkWrite` is a round trip of its own.
    """
    # Failures are counted under the address's current key (an older account's too).
    email_key = email_keys_for_lookup(email)[0]
    # The attempt is counted before the password is checked (accounts/users/lockout.py: atomic,
    # 429 past the limit, no hash). A user being chain-deleted is no user (the same 401).
    user, live = user_by_email_for_login(email)
    if user is not None and user.deleting:
        user = None
    # Every write below that belongs to the user (the lock-out's counter, the audit event, the
    # session) is proven against a racing chain delete once, at the end of one guarded block: by
    # the session's own conditional update of the user on success (no extra read), by one read
    # on a failure (accounts/users/guard.py).
    with owner_guard(user.id) if user is not None else nullcontext():
        return _password_checked(user, email_key=email_key, password=password, ip=ip, user_agent=user_agent, rate=rate, live=live)


@sensitive_variables("password")
def _password_checked(
    user: User | None, *, email_key: str, password: str, ip: str, user_agent: str, rate: RateHit | None, live: set
) -> LoginOutcome:
    counts = lockout.login_attempt_reserve(email_key=email_key, ip=ip, user_id=user.id if user else None, rate=rate)
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
        metrics.count_login("failure")
        raise AuthenticationFailed(INVALID_LOGIN)
    login_verification_check(user=user)  # EMAIL_VERIFICATION=mandatory: 403 past the right password
    if user.mfa_enabled:
        # The right password hands its place back; the address's count waits for the second factor.
        lockout.login_attempt_succeeded(counts, clear=False)
        audit_record(action="login_password_ok", actor=user, target=user, ip=ip, mfa="pending")
        metrics.count_login("mfa_required")
        return LoginOutcome(user=user, mfa_token=two_factor.mfa_token_issue(user=user), mfa_methods=two_factor.mfa_methods(user=user))
    # The counters handed back and the audit event go with the session's writes: one round trip.
    writes = [*lockout.login_success_writes(counts), audit_write(action="login", actor=user, target=user, ip=ip)]
    outcome = login_outcome(user, ip=ip, user_agent=user_agent, live=live, also=writes)
    audit_log(action="login", actor=user, target=user)  # its event landed with the session
    return outcome


def passkey_login(*, ceremony: str, credential: dict, ip: str, user_agent: str = "") -> LoginOutcome:
    """Sign in with a passkey alone (accounts/mfa/passkeys/sign_in.py checks the passkey, with the
    lock-out), then as a password login: EMAIL_VERIFICATION=mandatory (403), the lock-out's
    count of this address cleared, audit, a session. No second factor even with two-factor on:
    a passkey with user verification is two factors already."""
    user, counts = passkey_login_check(ceremony=ceremony, credential=credential, ip=ip)
    login_verification_check(user=user)
    lockout.login_failures_clear(email_key=user.email_key, ip=ip, counts=counts)
    audit_record(action="login", actor=user, target=user, ip=ip, factor="passkey")
    return login_outcome(user, ip=ip, user_agent=user_agent)
