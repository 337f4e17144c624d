"""JWT authentication for the MongoEngine user: the bearer header, and the browser login's cookie.

simplejwt's own `get_user` queries Django's SQL user table; this loads the MongoEngine `User`
instead and refuses (401) a token whose user is malformed, missing, inactive, in the trash, or
whose `ver` claim no longer matches the user's `token_version` (raised by a password change,
which so revokes every token the user holds, access tokens included, at once), or whose
session (`sid` claim) has ended: the ids of the user's live sessions are on the user document
(accounts/sessions/services.py), so this check costs no round trip.

The caller is read from the database on every request, never from a cache, so a revoked,
trashed or deleted user is refused on the very next request. What is remembered across requests
is only that a given token's signature and claims were checked (`_checked_token`): its expiry is
checked again on every use, and everything about its user is read afresh, in one `find_one` by
`_id`. The document as read travels with the user as `user.son`: a view that renders the caller
from what is stored on it (the join, from the copies of the linked ids and details that the user
document carries) then needs no other read.

A browser sends a cookie whoever made the page that sends it, so `CookieJWTAuthentication`
accepts the cookie on an unsafe method only when the request also passes Django's CSRF check,
as DRF's SessionAuthentication does. It comes after the bearer class (settings), so a request
that carries an Authorization header is decided by the header alone.
"""
from functools import lru_cache

from bson import ObjectId
from rest_framework import exceptions
from rest_framework.authentication import CSRFCheck
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow

from accounts.users.documents import User
from accounts.users.user_extensions import USER_COPIES

TOKEN_VERSION_CLAIM = "ver"
SESSION_CLAIM = "sid"
# The browser login's cookie (accounts/browser/views.py sets it): an access token, HttpOnly.
ACCESS_COOKIE = "access_token"


def _token_user_id(token) -> ObjectId:
    user_id = token.get(api_settings.USER_ID_CLAIM)
    if not isinstance(user_id, str) or not ObjectId.is_valid(user_id):
        raise InvalidToken("Token contained no recognizable user identification.")
    return ObjectId(user_id)


def user_for_token(token, *, session_required: bool = True) -> User:
    """The live user a validated token names, or AuthenticationFailed (401). One round trip.
    Unless `session_required` is off (the second step of a two-factor login, which has no session
    yet), the token must also belong to one of the user's live sessions (`session_ids`, on the
    document read anyway). The stored document is kept as `user.son`."""
    user_id = _token_user_id(token)
    # Straight from the collection: the same document, without building a QuerySet per request.
    son = User._get_collection().find_one({"_id": user_id})
    # The checks read the stored document (with the fields' defaults), so a refused token costs no
    # `User`; building one is a tenth of a signed-in read (issue 26, bench/profile_join.py).
    if son is None or not son.get("is_active", True) or son.get("in_trash", False):
        raise AuthenticationFailed("User not found or not active.", code="user_not_found")
    if token.get(TOKEN_VERSION_CLAIM) != son.get("token_version", 0):
        raise AuthenticationFailed("Token has been revoked.", code="token_not_valid")
    if session_required:
        sid = token.get(SESSION_CLAIM)
        if not isinstance(sid, str) or not ObjectId.is_valid(sid) or ObjectId(sid) not in (son.get("session_ids") or ()):
            raise AuthenticationFailed("Token has been revoked.", code="token_not_valid")
    # The copies the user carries for the join (user_copy_add) are read from `son` by the join
    # alone: the `User` is built without them. (MongoEngine saves only the fields a request
    # changes, so their defaults on this instance are never written back.)
    user = User._from_son({key: value for key, value in son.items() if key not in USER_COPIES})
    user.son = son
    return user


# Tokens whose signature and claims have been verified, by their exact bytes. Verifying one costs
# ~100 µs (PyJWT's HMAC and JSON, simplejwt's checks), about a tenth of a signed-in read; a client
# sends the same access token until it expires. Only tokens that passed are kept (a failure raises
# and is not cached). Bounded: ~1.5 KiB a token.
TOKEN_CACHE_SIZE = 4096


@lru_cache(maxsize=TOKEN_CACHE_SIZE)
def _checked_token(raw_token: bytes) -> Token:
    return JWTAuthentication.get_validated_token(_VERIFIER, raw_token)


_VERIFIER = JWTAuthentication()


class MongoJWTAuthentication(JWTAuthentication):
    def get_validated_token(self, raw_token: bytes) -> Token:
        """simplejwt's verification, done once per token: later uses only check that it has not
        expired since (with simplejwt's leeway). An expired one goes through the full check
        again, which refuses it with simplejwt's usual answer."""
        token = _checked_token(bytes(raw_token))
        try:
            token.check_exp(current_time=aware_utcnow())
        except TokenError:
            return super().get_validated_token(raw_token)
        return token

    def get_user(self, validated_token) -> User:
        return user_for_token(validated_token)


class CookieJWTAuthentication(MongoJWTAuthentication):
    """The access token from the browser login's cookie, CSRF-checked on unsafe methods.

    A missing, expired or revoked cookie token authenticates nobody (the request goes on as
    anonymous, so the browsable API offers "Log in"); a valid one on an unsafe method without a
    valid CSRF token is a 403, and the cookie is never used for that request.
    """

    def authenticate(self, request):
        found = self.cookie_user(request)
        if found is None:
            return None
        self.enforce_csrf(request)
        return found

    def cookie_user(self, request) -> tuple[User, object] | None:
        """(user, token) from a valid cookie, else None (no CSRF check: reading it changes nothing)."""
        raw = request.COOKIES.get(ACCESS_COOKIE)
        if not raw:
            return None
        try:
            token = self.get_validated_token(raw.encode())
            return self.get_user(token), token
        except exceptions.AuthenticationFailed:  # simplejwt's InvalidToken included
            return None

    def enforce_csrf(self, request) -> None:
        """Django's CSRF check, as DRF's SessionAuthentication runs it (DRF views are csrf_exempt)."""

        def no_response(request):  # pragma: no cover - CSRFCheck never calls it
            return None

        check = CSRFCheck(no_response)
        check.process_request(request)  # reads the CSRF cookie into request.META
        reason = check.process_view(request, None, (), {})
        if reason:
            raise exceptions.PermissionDenied(f"CSRF Failed: {reason}")
