"""Creating a user, and what a refused unique index means for the caller (409 with suggestions)."""
import secrets

from bson import ObjectId
from django.contrib.auth.hashers import make_password
from mongoengine import NotUniqueError

from accounts.documents import ROLE_USER, User, casefold_key
from accounts.services.passwords import password_validate
from common.exceptions import Conflict

EMAIL_TAKEN = "A user with this email already exists."
USERNAME_TAKEN = "This username is taken."


def unique_conflict(*, email_key: str, username: str, exclude_id: ObjectId | None = None) -> Conflict:
    """Which unique index refused a write (MongoDB's error does not say so portably)."""
    if User.objects(email_key=email_key, id__ne=exclude_id).only("id").first() is not None:
        return Conflict(EMAIL_TAKEN)
    return Conflict(USERNAME_TAKEN, suggested_usernames=username_suggestions(username=username))


def username_suggestions(*, username: str, count: int = 5) -> list[str]:
    """`count` usernames like `username` that are free now (one query for all candidates)."""
    base = username.strip()[:140]
    candidates = [f"{base}{n}" for n in range(1, 6)] + [f"{base}_{secrets.randbelow(10**6)}" for _ in range(10)]
    taken = set(User.objects(username_key__in=[casefold_key(c) for c in candidates]).distinct("username_key"))
    free = []
    for candidate in candidates:
        key = casefold_key(candidate)
        if key not in taken and candidate not in free:
            free.append(candidate)
    return free[:count]


def user_register(*, username: str, email: str, password: str, role: str = ROLE_USER, email_verified: bool = False) -> User:
    """Create a user. Uniqueness of username and email (ignoring case) is decided by MongoDB's
    unique indexes, so of two concurrent registrations of one email exactly one succeeds.
    Sends no mail: sign-up goes through `email_verification.user_sign_up`."""
    password_validate(password, username=username, email=email)
    user = User(
        username=username,
        username_key=casefold_key(username),
        email=email,
        email_key=casefold_key(email),
        password=make_password(password),
        role=role,
        email_verified=email_verified,
    )
    try:
        user.save(force_insert=True)
    except NotUniqueError:
        raise unique_conflict(email_key=user.email_key, username=username) from None
    return user
