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
`_id` (`caller_for_token`, accounts/sessions/selectors.py, whose checks services use too). The
user is `request.user` as a `Caller` (accounts/sessions/caller.py): a `User` built from that
document on first need, so a request that asks only who the caller is builds none. The document as
read is handed to a view that renders the caller from what is stored on it (the join, from the
copies of the linked ids and details the user document carries) through
accounts/sessions/prefetch.py, so it needs no other read.

A browser sends a cookie whoever made the page that sends it, so `CookieJWTAuthentication`
accepts the cookie on an unsafe method only when the request also passes Django's CSRF check,
as DRF's SessionAuthentication does. It comes after the bearer class (settings), so a request
that carries an Authorization header is decided by the header alone.
"""
from functools import lru_cache

from rest_framework import exceptions
from rest_framework.authentication import CSRFCheck
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow

# The browser's cookie (an access token, HttpOnly), defined with its setter in cookie.py.
from accounts.sessions.cookie import ACCESS_COOKIE
from accounts.sessions.selectors import caller_for_token
from accounts.users.documents import User


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
        return caller_for_token(validated_token)  # a `User`, built when first needed (caller.py)


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
