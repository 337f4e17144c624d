"""Input and output shapes of the admin endpoints: the listing query, the trash, and the
reason every removal of an account carries."""
import re

from django.core.validators import RegexValidator
from drf_spectacular.utils import OpenApiParameter, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from accounts.users.serializers import UserOutput

# Controls (C0, DEL, C1, line breaks included), zero-width and bidi marks, line and paragraph
# separators, embeddings, overrides and isolates, word joiners, the BOM.
REASON_REFUSED = r"\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
REASON_MESSAGE = "Control, format and bidi characters (line breaks included) are not allowed."
# The same rule as the schema's `pattern` (so clients and fuzzers see it), checked in full below.
REASON_PATTERN = RegexValidator(rf"^[^{REASON_REFUSED}]*$", REASON_MESSAGE)
_REASON_REFUSED = re.compile(rf"[{REASON_REFUSED}]")


class ReasonField(serializers.CharField):
    """Why an account was deleted: one line of free text, at most 500 characters. DRF's CharField
    refuses NUL and lone surrogates; controls (line breaks included), zero-width and bidi marks and
    line separators are refused too (REASON_REFUSED), since the reason is shown in listings and
    written to the audit trail and logs."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 500)
        kwargs.setdefault("help_text", "Why: one line of at most 500 characters, no control, format or bidi characters.")
        super().__init__(**kwargs)
        # Shown in the OpenAPI schema as `pattern`; searched again below, since `$` lets a final
        # line break through.
        self.validators.append(REASON_PATTERN)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if _REASON_REFUSED.search(value):
            raise serializers.ValidationError(REASON_MESSAGE)
        return value


class ReasonQuery(serializers.Serializer):
    reason = ReasonField()


class OptionalReasonQuery(serializers.Serializer):
    reason = ReasonField(required=False, allow_blank=True)


@extend_schema_serializer(component_name="BulkDeleteInput")  # the published name
class BulkTrashInput(serializers.Serializer):
    ids = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=False, max_length=1000)
    reason = ReasonField()


@extend_schema_serializer(component_name="BulkDeleteOutput")
class BulkTrashOutput(serializers.Serializer):
    # The contract's keys: `deleted_now` went to the trash now, `already_deleted` were there.

    deleted_now = serializers.ListField(child=serializers.CharField())
    already_deleted = serializers.ListField(child=serializers.CharField())
    not_found = serializers.ListField(child=serializers.CharField())


class TrashEntryOutput(serializers.Serializer):
    user_id = serializers.CharField()
    username = serializers.CharField(allow_null=True)
    email = serializers.EmailField(allow_null=True)
    deleted_by = serializers.CharField()
    deleted_at = serializers.DateTimeField()
    reason = serializers.CharField()


class UserQuery(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)


@extend_schema_serializer(many=False)
class UserListingOutput(serializers.Serializer):
    """GET /users's envelope (API.md): with `page`, the numbered page (`total` exact); with
    `cursor`, `page` is null, `next_cursor` leads on (null on the last page) and `total` is exact
    when `total_exact`, else a lower bound (accounts/admin/listing.py)."""

    total = serializers.IntegerField()
    total_exact = serializers.BooleanField(required=False)
    page = serializers.IntegerField(allow_null=True)
    per_page = serializers.IntegerField()
    has_next = serializers.BooleanField()
    has_previous = serializers.BooleanField()
    next_cursor = serializers.CharField(allow_null=True, required=False)
    data = serializers.SerializerMethodField()

    @extend_schema_field(UserOutput(many=True))
    def get_data(self, obj):  # pragma: no cover - the schema's; the view renders the users
        return obj["data"]


LISTING_PARAMETERS = [
    OpenApiParameter("page", int, required=False, description="The page, from 1 (default 1); not with `cursor`."),
    OpenApiParameter("per_page", int, required=False, description="Users a page, 1-30 (default 10)."),
    OpenApiParameter("cursor", str, required=False, description="Keyset paging: empty for the first page, then the last answer's `next_cursor`; not with `page`."),
    OpenApiParameter("q", str, required=False, description="Part of a username or email, any case (reads every user: prefer `starts_with`)."),
    OpenApiParameter("starts_with", str, required=False, description="The start of a username or email, any case (read through their indexes)."),
    OpenApiParameter("total", str, required=False, enum=["exact"], description="With `cursor`: `exact` counts every user (slow on a large listing); otherwise `total` is a lower bound."),
]
