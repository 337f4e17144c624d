"""Reads of users. Each selector names its round trips in its docstring."""
import re
from collections import defaultdict

from bson import ObjectId
from rest_framework.exceptions import NotFound

from accounts.sessions.documents import Session
from accounts.users.documents import LinkedId, User, as_utc, casefold_key, now
from accounts.users.identity import email_keys_for_lookup

NO_USER = "No user with this id."


def user_visible(*, in_trash: bool, caller: User | None) -> bool:
    """The visibility rule of every read of a user: a trashed account is seen by admins only
    (to everybody else it is a 404, as if it did not exist)."""
    return not in_trash or bool(caller and caller.is_admin)


def user_get(*, user_id: str, caller: User | None = None, deleting: bool = False) -> User:
    """The user, or a 404 for a malformed or unknown id. A trashed account is a 404 to
    everybody but admins. A user being chain-deleted is a 404 to everybody, except to an admin
    when `deleting` is true: the delete that finishes theirs (issue 20). One query, none when
    the caller asks for themselves."""
    if not ObjectId.is_valid(user_id):
        raise NotFound(NO_USER)
    if caller is not None and str(caller.id) == user_id.lower():
        return caller  # authentication has just loaded this very document
    query = User.objects(id=user_id)
    if not (deleting and caller is not None and caller.is_admin):
        query = query.filter(deleting__ne=True)  # one being chain-deleted is gone
    user = query.first()
    if user is None or not user_visible(in_trash=user.in_trash, caller=caller):
        raise NotFound(NO_USER)
    return user


def linked_ids_by_user(user_ids: list[ObjectId]) -> dict[ObjectId, list[str]]:
    """Each user's linked ids, oldest first. One query for any number of users."""
    result: dict[ObjectId, list[str]] = defaultdict(list)
    rows = LinkedId._get_collection().find({"user": {"$in": user_ids}}, {"user": 1, "linked_id": 1}).sort("created_at", 1)
    for row in rows:
        result[row["user"]].append(row["linked_id"])
    return result


def linked_ids_attach(users: list[User]) -> list[User]:
    """Attach each user's `linked_ids`, for the user representation. One query for all."""
    linked = linked_ids_by_user([u.id for u in users])
    for user in users:
        user.linked_ids = linked.get(user.id, [])
    return users


def users_query(*, q: str = ""):
    """Live (not trashed) users, newest first with the id as tie-breaker, `q` matching part of
    the username or email ignoring case, as plain text (regex metacharacters are escaped).
    A QuerySet: the pagination counts it and reads one page."""
    query = User.objects(in_trash=False, deleting__ne=True)
    if q:
        pattern = re.escape(casefold_key(q))
        query = query.filter(__raw__={"$or": [{"username_key": {"$regex": pattern}}, {"email_key": {"$regex": pattern}}]})
    return query.order_by("-created_at", "-id")


def user_by_linked_id(*, linked_id: str) -> User:
    """The user holding a linked id, or 404. Three queries (the link, its user, their linked ids)."""
    link = LinkedId.objects(linked_id=linked_id).first()
    if link is None:
        raise NotFound("No user holds this linked id.")
    return linked_ids_attach([link.user])[0]


def user_by_email(email: str) -> User | None:
    """The user holding `email`, found as the login finds them: under the address's normalised key,
    or the plain case folding that accounts stored before the email rules hold
    (`identity.email_keys_for_lookup`). Trashed and inactive accounts too: each caller decides
    about those. The one lookup by email (login, password reset, admins, createadmin). One query."""
    return User.objects(email_key__in=email_keys_for_lookup(email)).first()


def user_by_email_for_login(email: str) -> tuple[User | None, set[ObjectId]]:
    """`user_by_email`, and the ids of the user's sessions still live, in one round trip (an
    aggregate whose `$lookup` reads the Session documents the user lists): the login prunes the
    dead ones from the list in the write that adds its own (accounts/sessions/services.py's
    `session_start`), without a read of its own."""
    rows = User._get_collection().aggregate(
        [
            {"$match": {"email_key": {"$in": email_keys_for_lookup(email)}}},
            {"$limit": 1},
            {"$lookup": {"from": Session._get_collection_name(), "localField": "session_ids", "foreignField": "_id", "as": LIVE}},
        ]
    )
    row = next(iter(rows), None)
    if row is None:
        return None, set()
    moment = now()
    live = {s["_id"] for s in row.pop(LIVE) if as_utc(s["expires_at"]) > moment}
    return User._from_son(row), live


LIVE = "_live_sessions"
