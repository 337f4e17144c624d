"""Input and output shapes of the admin endpoints: the listing query, the trash, and the
reason every removal of an account carries."""
import re

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

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
