"""OpenAPI pieces shared by the viewsets, and the bearer scheme of MongoJWTAuthentication."""
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

# DRF's error body. `code` is set by some errors (simplejwt's 401 `token_not_valid`, and others to
# come), with `messages` saying which token failed and why.
Detail = inline_serializer(
    "Detail",
    {
        "detail": serializers.CharField(help_text="What went wrong, for a person."),
        "code": serializers.CharField(required=False, help_text="What went wrong, for a program (e.g. `token_not_valid`)."),
        "messages": serializers.ListField(
            child=serializers.DictField(child=serializers.CharField()),
            required=False,
            help_text="For a token that failed: each kind of token tried and why it was refused.",
        ),
    },
)
ValidationErrors = OpenApiTypes.OBJECT  # {"field": ["message", ...]}
# The errors every endpoint about a user can answer.
ERRORS = {400: ValidationErrors, 401: Detail, 403: Detail, 404: Detail}
UsernameConflict = inline_serializer(
    "Conflict",
    {"detail": serializers.CharField(), "suggested_usernames": serializers.ListField(child=serializers.CharField(), required=False)},
)


class MongoJWTScheme(SimpleJWTScheme):
    target_class = "accounts.authentication.MongoJWTAuthentication"
    name = "jwtAuth"
