"""JWT authentication for the MongoEngine user: the bearer header, and the browser login's cookie.

simplejwt's own `get_user` queries Django's SQL user table; this loads the MongoEngine `User`
instead and refuses (401) a token whose user is malformed, missing, inactive, in the trash, or
whose `ver` claim no longer matches the user's `token_version` (raised by a password change,
which so revokes every token the user holds, access tokens included, at once).

A browser sends a cookie whoever made the page that sends it, so `CookieJWTAuthentication`
accepts the cookie on an unsafe method only when the request also passes Django's CSRF check,
as DRF's SessionAuthentication does. It comes after the bearer class (settings), so a request
that carries an Authorization header is decided by the header alone.
"""
from bson import ObjectId
from rest_framework import exceptions
from rest_framework.authentication import CSRFCheck
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from accounts.documents import User

TOKEN_VERSION_CLAIM = "ver"
# The browser login's cookie (accounts/browser/views.py sets it): an access token, HttpOnly.
ACCESS_COOKIE = "access_token"


def user_for_token(token) -> User:
    """The live user a validated token names, or AuthenticationFailed (401)."""
    user_id = token.get(api_settings.USER_ID_CLAIM)
    if not isinstance(user_id, str) or not ObjectId.is_valid(user_id):
        raise InvalidToken("Token contained no recognizable user identification.")
    # Straight from the collection: the same document, without building a QuerySet per request.
    son = User._get_collection().find_one({"_id": ObjectId(user_id)})
    user = User._from_son(son) if son is not None else None
    if user is None or not user.is_active or user.in_trash:
        raise AuthenticationFailed("User not found or not active.", code="user_not_found")
    if token.get(TOKEN_VERSION_CLAIM) != user.token_version:
        raise AuthenticationFailed("Token has been revoked.", code="token_not_valid")
    return user


class MongoJWTAuthentication(JWTAuthentication):
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
