"""Reads of tokens' users: the live user a validated token names (authentication asks it for
every request, the session rules and the second step of a two-factor login too), and the claims
that tie a token to its user's `token_version` and session."""
from bson import ObjectId
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from accounts.sessions.caller import Caller, user_from_document
from accounts.users.documents import User

TOKEN_VERSION_CLAIM = "ver"
SESSION_CLAIM = "sid"


def token_user_id(token) -> ObjectId:
    user_id = token.get(api_settings.USER_ID_CLAIM)
    if not isinstance(user_id, str) or not ObjectId.is_valid(user_id):
        raise InvalidToken("Token contained no recognizable user identification.")
    return ObjectId(user_id)


def user_for_token(token, *, session_required: bool = True) -> User:
    """The live user a validated token names, or AuthenticationFailed (401). One round trip.
    Unless `session_required` is off (the second step of a two-factor login, which has no session
    yet), the token must also belong to one of the user's live sessions (`session_ids`, on the
    document read anyway). The stored document is kept for the request (prefetch.py)."""
    return user_from_document(token_user_document(token, session_required=session_required))


def caller_for_token(token) -> Caller:
    """`user_for_token` for authentication: the same checks and read, and the user as a `Caller`
    (caller.py), which builds the `User` only when the request asks for more than who it is."""
    return Caller(token_user_document(token))


def token_user_document(token, *, session_required: bool = True) -> dict:
    """The stored document of the live user a validated token names (see `user_for_token`)."""
    user_id = token_user_id(token)
    # Straight from the collection: the same document, without building a QuerySet per request.
    son = User._get_collection().find_one({"_id": user_id})
    # The checks read the stored document (with the fields' defaults), so a refused token costs no
    # `User`. A user being chain-deleted is gone already: 401, as for one deleted (issue 20).
    if son is None or not son.get("is_active", True) or son.get("in_trash", False) or son.get("deleting", False):
        raise AuthenticationFailed("User not found or not active.", code="user_not_found")
    if token.get(TOKEN_VERSION_CLAIM) != son.get("token_version", 0):
        raise AuthenticationFailed("Token has been revoked.", code="token_not_valid")
    if session_required:
        sid = token.get(SESSION_CLAIM)
        if not isinstance(sid, str) or not ObjectId.is_valid(sid) or ObjectId(sid) not in (son.get("session_ids") or ()):
            raise AuthenticationFailed("Token has been revoked.", code="token_not_valid")
    return son
