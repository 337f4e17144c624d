"""Logging in: one password check, counted by the lock-out, answered with a token pair."""
from django.contrib.auth.hashers import check_password, make_password
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import lockout
from accounts.documents import User
from accounts.identity import email_keys_for_lookup
from accounts.services.audit import audit_record
from accounts.services.email_verification import login_verification_check
from accounts.services.passwords import dummy_hash
from accounts.services.tokens import token_pair_for

INVALID_LOGIN = "Invalid email or password."


def user_login(*, email: str, password: str, ip: str) -> tuple[User, RefreshToken]:
    """Check a password and issue tokens.

    Every failure (unknown email, wrong password, inactive or trashed account) is the same 401
    and costs one hash, so neither the answer nor its timing tells which emails exist. Failures
    are counted per account and per address; past the limit the answer is 429. A hash from an
    older hasher is upgraded to the preferred one (Argon2) on success. With
    EMAIL_VERIFICATION=mandatory, an unverified account is refused (403) after the right password.
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
    lockout.login_failures_clear(email_key=email_key, ip=ip, counts=counts)
    login_verification_check(user=user)  # EMAIL_VERIFICATION=mandatory: 403 past the right password
    audit_record(action="login", actor=user, target=user, ip=ip)
    return user, token_pair_for(user)
