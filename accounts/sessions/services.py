"""Sessions: one per login, with every token issued in it carrying its id.

A session is live while its id is in `User.session_ids`. Authentication loads the user document
anyway (accounts/sessions/authentication.py), so refusing the tokens of an ended session costs no extra
round trip: ending a session is one `$pull` from that list, and from then on every access and
refresh token carrying its id is a 401. The `Session` document (its own collection, CASCADE to
the user) holds what the person sees in the list: when it began, when it was last used, from
which address and user agent, and which refresh token of it may be used next.

`last_used_at`, `ip` and `user_agent` are written by login and by each refresh, in the same
update that rotates the refresh token, so they cost nothing extra. They are not written on
access: access tokens live ACCESS_TOKEN_MINUTES (5 by default), so an active client refreshes,
and so updates the session, at least that often. Writing on access would add a write to the
hot path for a figure that is already accurate to a few minutes.

Refresh-token reuse: each refresh swaps `Session.refresh_jti` with one conditional update, so of
two uses of one refresh token exactly one finds its jti there. The other is a reuse (a copy of
a spent token: stolen, or a client racing itself), and it ends the whole session, so that the
thief's and the owner's tokens both die and the owner has to log in again (audited as
`refresh_token_reuse`).

`user_sessions_end` is the one way to end sessions: logout, the session endpoints and reuse
detection go through it. A change of the user that must end every session in the same atomic
update (a password change or reset, a trash move) puts `sessions_end_all_set()` in its `$set`
and calls `sessions_documents_delete` after: the same mechanism, one write fewer.
"""
from collections.abc import Sequence
from datetime import datetime, timezone

from bson import ObjectId
from pymongo.errors import OperationFailure
from django.conf import settings
from rest_framework.exceptions import AuthenticationFailed, NotFound
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.events.outbox import outbox_write
from accounts.events.webhooks import event_emit, event_job
from accounts.users.audit import audit_record
from accounts.users.guard import alive_filter, insert_write, owner_guard
from accounts.sessions.selectors import SESSION_CLAIM, TOKEN_VERSION_CLAIM, user_for_token
from accounts.sessions.documents import Session
from accounts.users.documents import User, now
from common import batch

USER_AGENT_MAX = 512
REVOKED = "Token is revoked."


def _expiry(token) -> datetime:
    return datetime.fromtimestamp(token["exp"], tz=timezone.utc)


def _token_pair(user: User, session_id: ObjectId) -> RefreshToken:
    """A refresh token of the session; its `.access_token` carries the session id too."""
    refresh = RefreshToken.for_user(user)
    refresh[TOKEN_VERSION_CLAIM] = user.token_version
    refresh[SESSION_CLAIM] = str(session_id)
    return refresh


def session_start(
    *, user: User, ip: str | None = None, user_agent: str = "", live: set[ObjectId] | None = None, also: Sequence[batch.Write] = ()
) -> RefreshToken:
    """Begin a session for `user` (who has just proved who they are) and return its first
    refresh token (`.access_token` is the matching access token).

    The Session document is written before its id joins `User.session_ids`, so a listed id
    always has its document. Ids of sessions that expired meanwhile (TTL) are pruned from the
    list here, and past SESSIONS_MAX_PER_USER live sessions the oldest logins end, so the list
    that every request loads stays small. `live`: the ids of the user's sessions still live, when
    the caller read them with the user (the login: accounts/users/selectors.py's
    `user_by_email_for_login`); otherwise one read finds them. `also`: the caller's own writes
    (a login's lock-out and audit writes), sent first in the same round trip.

    Round trips: 1 (the Session, the caller's writes, the pruning and the user's update, in one
    `bulkWrite`: common/batch.py), plus 1 to find the live sessions when the user has any and
    the caller did not, plus 1 to end the oldest past the limit.
    """
    session_id = ObjectId()
    refresh = _token_pair(user, session_id)
    # The document, then its id on the user by an update that matches only while the user
    # remains (not being chain-deleted): that match proves the owner for the session document
    # and whatever else the caller's owner guard holds; no match, and they are removed (404).
    with owner_guard(user.id) as guard:
        session = Session(
            id=session_id,
            user=user.id,
            refresh_jti=refresh["jti"],
            ip=ip,
            user_agent=(user_agent or "")[:USER_AGENT_MAX],
            expires_at=_expiry(refresh),
        )
        writes = [*also, insert_write(session)]
        known = list(user.session_ids or [])
        if known:
            if live is None:
                live = set(Session._get_collection().distinct("_id", {"_id": {"$in": known}, "expires_at": {"$gt": now()}}))
            live = {i for i in known if i in live}
            dead = [i for i in known if i not in live]
            excess = len(live) + 1 - settings.SESSIONS_MAX_PER_USER
            if excess > 0:  # ObjectIds grow with time: the smallest are the oldest logins
                oldest = sorted(live)[:excess]
                dead += oldest
                Session._get_collection().delete_many({"_id": {"$in": oldest}})
            if dead:
                writes.append(batch.update(User, {"_id": user.id}, {"$pull": {"session_ids": {"$in": dead}}}))
        writes.append(batch.update(User, alive_filter(user.id), {"$addToSet": {"session_ids": session_id}}))
        outcome = batch.writes_together(writes)
        if not outcome.ok:
            raise OperationFailure(f"session not started: {outcome.errors}")
        guard.proven(outcome.matched[-1])
    return refresh


def sessions_end_all_set() -> dict:
    """The `$set` fields that end every session of a user, for a caller that ends them as part of
    another atomic update of the user (a password change or reset, a trash move: of one user or
    of many with update_many). From the moment that update is applied, every token of the user
    is refused; call `sessions_documents_delete` afterwards to remove what the list showed."""
    return {"session_ids": []}


def sessions_documents_delete(*, user_ids: list[ObjectId]) -> int:
    """Remove the Session documents of users whose sessions were ended by `sessions_end_all_set`
    (safe to repeat; a crash before it leaves documents that nothing accepts or lists, which
    `check_integrity` finds). One round trip."""
    deleted = Session._get_collection().delete_many({"user": {"$in": list(user_ids)}}).deleted_count
    outbox_write([event_job("session.ended", user_id=i, data={"all_sessions": True}) for i in user_ids])
    return deleted


def user_sessions_end(*, user_id: ObjectId, session_ids: list[ObjectId] | None = None, keep: ObjectId | None = None) -> int:
    """End sessions of a user: those in `session_ids`, or (None) all but `keep`.

    Their tokens, access tokens included, are refused from the moment this returns: their ids
    leave `User.session_ids` first (one atomic $pull), and their documents go after. A crash
    between the two leaves documents that nothing accepts and the list no longer shows; running
    it again removes them. Returns how many sessions ended (0 if none were live: safe to repeat).
    Round trips: 2.
    """
    users = User._get_collection()
    if session_ids is None:
        update = {"$pull": {"session_ids": {"$nin": [keep]}}} if keep is not None else {"$set": sessions_end_all_set()}
        users.update_one({"_id": user_id}, update)
        query = {"user": user_id, "_id": {"$ne": keep}} if keep is not None else {"user": user_id}
        ended = Session._get_collection().delete_many(query).deleted_count
        if ended:
            event_emit("session.ended", user_id=user_id, data={"all_sessions": True, "kept_session_id": str(keep) if keep else None})
        return ended
    pulled = users.update_one({"_id": user_id}, {"$pull": {"session_ids": {"$in": session_ids}}}).modified_count
    deleted = Session._get_collection().delete_many({"user": user_id, "_id": {"$in": session_ids}}).deleted_count
    if max(deleted, pulled):
        event_emit("session.ended", user_id=user_id, data={"session_ids": [str(i) for i in session_ids]})
    return max(deleted, pulled)


def _refresh_token_parse(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)
    except TokenError as exc:
        raise AuthenticationFailed(str(exc), code="token_not_valid") from exc


def _session_id(token) -> ObjectId:
    return ObjectId(token[SESSION_CLAIM])  # user_for_token has checked it names a live session


def _reuse(*, user: User, session_id: ObjectId, ip: str | None) -> AuthenticationFailed:
    """A spent refresh token came back: end its whole session and say so in the audit trail."""
    if user_sessions_end(user_id=user.id, session_ids=[session_id]):
        audit_record(action="refresh_token_reuse", target=user, ip=ip, session=str(session_id))
    return AuthenticationFailed(REVOKED, code="token_not_valid")


def session_refresh(*, raw_refresh: str, ip: str | None = None, user_agent: str = "") -> RefreshToken:
    """Rotate: the given refresh token is spent and the session's next pair returned.

    The session's `refresh_jti` is swapped by one conditional update, so of many concurrent uses
    of one refresh token exactly one succeeds. Any other use of a spent token, concurrent or
    later, ends the whole session (see the module's docstring). Round trips: 2 (load the user,
    rotate); a reuse adds the 2 of ending the session and the audit record.
    """
    token = _refresh_token_parse(raw_refresh)
    user = user_for_token(token)
    session_id = _session_id(token)
    refresh = _token_pair(user, session_id)
    rotated = Session._get_collection().update_one(
        {"_id": session_id, "refresh_jti": token["jti"]},
        {
            "$set": {
                "refresh_jti": refresh["jti"],
                "last_used_at": now(),
                "ip": ip,
                "user_agent": (user_agent or "")[:USER_AGENT_MAX],
                "expires_at": _expiry(refresh),
            }
        },
    )
    if not rotated.matched_count:
        raise _reuse(user=user, session_id=session_id, ip=ip)
    return refresh


def session_logout(*, raw_refresh: str, ip: str | None = None) -> None:
    """Log out: the refresh token's session ends, its access tokens with it. A spent refresh
    token ends the session too, but as a reuse (401, audited as such).

    The session's document goes first, by a delete conditional on the presented token being its
    current one (which tells a logout from a reuse in the same round trip), then its id leaves
    the user's list. Round trips: 4 (load the user, delete, $pull, audit)."""
    token = _refresh_token_parse(raw_refresh)
    user = user_for_token(token)
    session_id = _session_id(token)
    current = Session._get_collection().delete_one({"_id": session_id, "refresh_jti": token["jti"]}).deleted_count
    if not current:
        raise _reuse(user=user, session_id=session_id, ip=ip)
    User._get_collection().update_one({"_id": user.id}, {"$pull": {"session_ids": session_id}})
    audit_record(action="logout", actor=user, target=user, ip=ip, session=str(session_id))


def user_session_end(*, user: User, session_id: str, actor: User, ip: str | None = None) -> None:
    """End one session of `user` (the owner's or an admin's request); 404 if it is not live."""
    if not ObjectId.is_valid(session_id) or ObjectId(session_id) not in (user.session_ids or []):
        raise NotFound("No such session.")
    if not user_sessions_end(user_id=user.id, session_ids=[ObjectId(session_id)]):
        raise NotFound("No such session.")
    audit_record(action="session_end", actor=actor, target=user, ip=ip, session=session_id)


def user_sessions_end_others(*, user: User, actor: User, keep: str | None, ip: str | None = None) -> int:
    """End every session of `user` but `keep` (the caller's own, when the caller is `user`)."""
    keep_id = ObjectId(keep) if keep and ObjectId.is_valid(keep) else None
    ended = user_sessions_end(user_id=user.id, keep=keep_id)
    audit_record(action="sessions_end", actor=actor, target=user, ip=ip, ended=ended)
    return ended


def user_sessions_list(*, user: User) -> list[Session]:
    """The user's live sessions, most recently used first. One query (the ids come from the
    user document, already loaded)."""
    ids = list(user.session_ids or [])
    if not ids:
        return []
    return list(Session.objects(id__in=ids, user=user.id, expires_at__gt=now()).order_by("-last_used_at", "-id"))
