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
checked again on every use, and everything about its user is read afresh. A view that is about
to read the caller's own data anyway may ask for it in that same round trip (`caller_lookups`,
below): the caller's document then comes from one aggregation with the view's `$lookup` stages,
and the looked-up arrays travel with the user as `user.prefetched`.

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

TOKEN_VERSION_CLAIM = "ver"
SESSION_CLAIM = "sid"
# The browser login's cookie (accounts/browser/views.py sets it): an access token, HttpOnly.
ACCESS_COOKIE = "access_token"


def _token_user_id(token) -> ObjectId:
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
    runs them, still one round trip; each stage's `as` array is kept in `user.prefetched`."""
    user_id = _token_user_id(token)
    collection = User._get_collection()
    prefetched = None
    if lookups:
        son = next(iter(collection.aggregate([{"$match": {"_id": user_id}}, *lookups])), None)
        if son is not None:
            prefetched = {stage["$lookup"]["as"]: son.pop(stage["$lookup"]["as"], []) for stage in lookups}
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
        prefetched["_son"] = son
        user.prefetched = prefetched
    return user


def caller_lookups(request, user_id: ObjectId) -> list[dict] | None:
    """The `$lookup` stages the view handling `request` wants run with the caller's document:
    its `caller_lookups(caller_id)` answer, or None (a plain `find_one`)."""
    view = (getattr(request, "parser_context", None) or {}).get("view")
    ask = getattr(view, "caller_lookups", None)
    return ask(str(user_id)) if ask is not None else None


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

    def authenticate(self, request):
        self._request = request  # authenticators are made per request: get_user reads it
        return super().authenticate(request)

    def get_user(self, validated_token) -> User:
        request = getattr(self, "_request", None)
        lookups = caller_lookups(request, _token_user_id(validated_token)) if request is not None else None
        return user_for_token(validated_token, lookups=lookups)


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
