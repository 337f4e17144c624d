"""Reads of tokens' users: the live user a validated token names (authentication asks it for
every request, the session rules and the second step of a two-factor login too), and the claims
that tie a token to its user's `token_version` and session."""
from bson import ObjectId
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from accounts.sessions.prefetch import prefetch_split
from accounts.users.documents import User

TOKEN_VERSION_CLAIM = "ver"
SESSION_CLAIM = "sid"


def token_user_id(token) -> ObjectId:
    user_id = token.get(api_settings.USER_ID_CLAIM)
    if not isinstance(user_id, str) or not ObjectId.is_valid(user_id):
        raise InvalidToken("Token contained no recognizable user identification.")
    return ObjectId(user_id)


def user_for_token(token, *, lookups: list[dict] | None = None, session_required: bool = True) -> User:
    """The live user a validated token names, or AuthenticationFailed (401). One round trip.
    Unless `session_required` is off (the second step of a two-factor login, which has no session
    yet), the token must also belong to one of the user's live sessions (`session_ids`, on the
    document read anyway).

    With `lookups` (`$lookup` stages), the user's document is read by an aggregation that also
    runs them, still one round trip; the result is left as `user.prefetched`, a `CallerPrefetch`
    (accounts/sessions/prefetch.py)."""
    user_id = token_user_id(token)
    collection = User._get_collection()
    prefetched = None
    if lookups:
        son = next(iter(collection.aggregate([{"$match": {"_id": user_id}}, *lookups])), None)
        if son is not None:
            prefetched = prefetch_split(son, lookups)
    else:
        # Straight from the collection: the same document, without building a QuerySet per request.
        son = collection.find_one({"_id": user_id})
    user = User._from_son(son) if son is not None else None
    if user is None or not user.is_active or user.in_trash:
        raise AuthenticationFailed("User not found or not active.", code="user_not_found")
    if token.get(TOKEN_VERSION_CLAIM) != user.token_version:
        raise AuthenticationFailed("Token has been revoked.", code="token_not_valid")
    if session_required:
        sid = token.get(SESSION_CLAIM)
        if not isinstance(sid, str) or not ObjectId.is_valid(sid) or ObjectId(sid) not in (user.session_ids or ()):
            raise AuthenticationFailed("Token has been revoked.", code="token_not_valid")
    if prefetched is not None:
        user.prefetched = prefetched
    return user
