"""OpenAPI shapes and words shared by every viewset: the error bodies, the plain message body,
what each status and shared parameter means, and `documented`, the words of one operation.

Conventions, for every new operation:
- shapes on the view: `@extend_schema(request=Input, responses={200: Output, **ERRORS, 409: Detail})`;
  400 is typed from the request serializer (or query parameters) by a hook, nothing to declare;
- words in the app's `api_docs.py`: `documented(operation_id, summary, description, tag=...,
  statuses={409: "what 409 means here"})` applied with `extend_schema_view`; a status left out
  gets its meaning from STATUS_MEANINGS.
"""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
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
ValidationErrors = OpenApiTypes.OBJECT  # {"field": ["message", ...]}, typed per operation by config.openapi.typed_validation_errors
# The errors every endpoint about a user can answer.
ERRORS = {400: ValidationErrors, 401: Detail, 403: Detail, 404: Detail}


class MessageOutput(serializers.Serializer):
    message = serializers.CharField()


# What a status means when the operation says nothing more specific. An operation documents its
# own meaning of a status (409: which conflict) with OpenApiResponse(description=...).
STATUS_MEANINGS = {
    "200": "Success.",
    "201": "Created.",
    "204": "Done; no body.",
    "304": "Not modified: the ETag named in If-None-Match is still current.",
    "400": "Invalid input: a list of messages under each field at fault (or `detail` for a body that is not valid JSON).",
    "401": "No valid access token: missing, malformed, expired or revoked (`code` says which, e.g. `token_not_valid`).",
    "403": "Signed in, but not allowed: not the owner of this account nor an admin, or an admin-only action.",
    "404": "No such user (a malformed or unknown id, or a trashed account for anyone but an admin), or nothing at this path.",
    "409": "Conflicts with what is stored (a name or id taken by someone else).",
    "413": "The upload is larger than allowed.",
    "415": "The body is not of a media type this operation accepts.",
    "429": "Too many requests: wait the number of seconds in the `Retry-After` header.",
    "503": "The database cannot be reached.",
}


# What the parameters every path shares mean, unless the operation says more.
PARAMETER_MEANINGS = {
    "user_id": "The user's id: 24 hexadecimal digits (a MongoDB ObjectId).",
    "linked_id": "An external id: 1-128 letters, digits and `. _ : @ -`.",
    "page": "Page number, from 1.",
    "per_page": "Items per page, 1-30.",
    "reason": "Why; kept in the record (at most 500 characters).",
}


STATUS_EXTENSION = "x-status-descriptions"


def documented(operation_id: str, summary: str, description: str, *, tag: str, statuses: dict | None = None, methods=None):
    """The words of one operation, for the people who call it: a readable operationId (the
    function name in a generated client), a summary (ReDoc's and Swagger UI's title), a
    description (who may call it, what it does), and what each status means for it. The shapes
    (request, responses) stay with the view's own @extend_schema; this only adds words. The
    browsable API shows the same summary and description (common/browsable.py)."""
    extensions = {STATUS_EXTENSION: {str(code): text for code, text in (statuses or {}).items()}}
    schema = extend_schema(
        operation_id=operation_id, summary=summary, description=description.strip(), tags=[tag], extensions=extensions, methods=methods
    )

    def decorate(function):
        function = schema(function)
        # A new dict each time: a method shared by two viewsets must not get the other's words.
        words = {method.upper(): (summary, description.strip()) for method in (methods or ["*"])}
        function.api_words = {**getattr(function, "api_words", {}), **words}
        return function

    return decorate
