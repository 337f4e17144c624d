"""OpenAPI pieces of `accounts` alone: the 409 of a taken username, and the security schemes of
its two authentication classes. The shapes both apps use are in common/openapi.py."""
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from accounts.authentication import ACCESS_COOKIE

UsernameConflict = inline_serializer(
    "Conflict",
    {"detail": serializers.CharField(), "suggested_usernames": serializers.ListField(child=serializers.CharField(), required=False)},
)

# Login with EMAIL_VERIFICATION=mandatory and an unverified address (after the right password).
EmailNotVerifiedOutput = inline_serializer("EmailNotVerified", {"detail": serializers.CharField(), "code": serializers.CharField()})


class MongoJWTScheme(SimpleJWTScheme):
    target_class = "accounts.authentication.MongoJWTAuthentication"
    name = "jwtAuth"


class CookieJWTScheme(OpenApiAuthenticationExtension):
    """OpenAPI: the cookie set by /api-auth/login/ (for browsers; API clients use bearer)."""

    target_class = "accounts.authentication.CookieJWTAuthentication"
    name = "cookieJwtAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": ACCESS_COOKIE,
            "description": "Set by the browser login at /api-auth/login/. Unsafe methods also need Django's CSRF token.",
        }
