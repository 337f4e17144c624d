"""Creating a user, and what a refused unique index means for the caller (409 with suggestions)."""
import secrets
from collections.abc import Callable

from bson import ObjectId
from django.conf import settings
from django.contrib.auth.hashers import make_password
from mongoengine import NotUniqueError
from rest_framework.exceptions import ValidationError

from accounts.events.outbox import outbox_forget, outbox_write
from accounts.events.mail_jobs import VERIFY, mail_job
from accounts.events.webhooks import event_job
from accounts.users import identity
from accounts.users.documents import ROLE_USER, User, casefold_key
from accounts.users.passwords import password_validate
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
    keys = {c: casefold_key(c) for c in candidates}
    skeletons = {c: identity.username_skeleton(c) for c in candidates}
    rows = User._get_collection().find(
        {"$or": [{"username_key": {"$in": list(keys.values())}}, {"username_skeleton": {"$in": list(skeletons.values())}}]},
        {"username_key": 1, "username_skeleton": 1},
    )
    taken = {value for row in rows for value in (row.get("username_key"), row.get("username_skeleton")) if value}
    free = []
    for candidate in candidates:
        if keys[candidate] not in taken and skeletons[candidate] not in taken and candidate not in free:
            free.append(candidate)
            taken.add(skeletons[candidate])  # two free suggestions must not look alike either
    return free[:count]


def email_stored_form(email: str) -> str:
    """The email as stored (accounts/users/identity.py), or a 400 on `email`."""
    try:
        return identity.email_normalize(email)
    except identity.EmailError:
        raise ValidationError({"email": ["Enter a valid email address."]}) from None


def user_register(
    *, username: str, email: str, password: str, role: str = ROLE_USER, email_verified: bool = False, jobs: Callable[[ObjectId], list[dict]] | None = None
) -> User:
    """Create a user. Uniqueness of username and email (ignoring case, after NFKC and with the
    email's domain in one form) and of the username's look (its skeleton) is decided by MongoDB's
    unique indexes, so of two concurrent registrations of one email exactly one succeeds, and a
    look-alike of a stored username is a 409 like the name itself. Sends no mail: sign-up goes
    through `user_sign_up`, which passes its mail as `jobs`.

    The user.created event (and the caller's `jobs`) is written to the outbox first, under the
    user's id chosen here, and the user second: a crash between the two leaves jobs whose user
    never came, which the outbox cancels (accounts/events/outbox.py), never a user whose event
    or mail is lost. A refused registration removes its jobs. Two round trips."""
    username, email = identity.username_normalize(username), email_stored_form(email)
    password_validate(password, username=username, email=email)
    user = User(
        id=ObjectId(),
        username=username,
        username_key=casefold_key(username),
        username_skeleton=identity.username_skeleton(username),
        email=email,
        email_key=casefold_key(email),
        password=make_password(password),
        role=role,
        email_verified=email_verified,
    )
    data = {"username": username, "email": email, "email_verified": email_verified, "role": role, "linked_ids": []}
    written = outbox_write([event_job("user.created", user_id=user.id, data=data), *(jobs(user.id) if jobs else [])], before_the_user=True)
    try:
        user.save(force_insert=True)
    except NotUniqueError:
        outbox_forget(written)
        raise unique_conflict(email_key=user.email_key, username=username) from None
    return user


def user_sign_up(*, username: str, email: str, password: str) -> User:
    """Register an account (`user_register`: the same checks and uniqueness) whose
    address is unverified, and mail it a verification link unless EMAIL_VERIFICATION is none.
    Two round trips: the jobs (the user.created event and the mail), then the user."""
    mails = None if settings.EMAIL_VERIFICATION == "none" else (lambda user_id: [mail_job(VERIFY, user_id=user_id)])
    # The mail's job is written with the user.created event, before the user (user_register):
    # a crash between the two leaves a job whose user never came, which the outbox cancels.
    return user_register(username=username, email=email, password=password, email_verified=False, jobs=mails)
