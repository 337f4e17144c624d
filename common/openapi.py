"""OpenAPI shapes shared by every viewset: the error bodies and the plain message body."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

Detail = inline_serializer("Detail", {"detail": serializers.CharField()})
ValidationErrors = OpenApiTypes.OBJECT  # {"field": ["message", ...]}
# The errors every endpoint about a user can answer.
ERRORS = {400: ValidationErrors, 401: Detail, 403: Detail, 404: Detail}


class MessageOutput(serializers.Serializer):
    message = serializers.CharField()
