"""OpenAPI pieces shared by the viewsets, and the bearer scheme of MongoJWTAuthentication."""
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

Detail = inline_serializer("Detail", {"detail": serializers.CharField()})
ValidationErrors = OpenApiTypes.OBJECT  # {"field": ["message", ...]}
# The errors every endpoint about a user can answer.
ERRORS = {400: ValidationErrors, 401: Detail, 403: Detail, 404: Detail}
UsernameConflict = inline_serializer(
    "Conflict",
    {"detail": serializers.CharField(), "suggested_usernames": serializers.ListField(child=serializers.CharField(), required=False)},
)

# Login with EMAIL_VERIFICATION=mandatory and an unverified address (after the right password).
EmailNotVerifiedOutput = inline_serializer("EmailNotVerified", {"detail": serializers.CharField(), "code": serializers.CharField()})


class MongoJWTScheme(SimpleJWTScheme):
    target_class = "accounts.authentication.MongoJWTAuthentication"
    name = "jwtAuth"
