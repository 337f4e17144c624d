"""Input and output shapes of `profiles`, nested for the user-with-details join."""
import math

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.users.documents import ROLES
from accounts.users.serializers import UserIdInput
from accounts.users.user_extensions import user_output_field_add
from profiles.documents import avatar_path

PHONE_VALIDATOR = RegexValidator(r"^\+[0-9]{7,15}\Z", "A phone number in E.164 form: + and 7-15 digits.")
PREFERENCES_MAX_KEYS = 50
INT64 = 2**63


class PreferencesField(serializers.DictField):
    """At most 50 keys; values are strings, numbers, booleans or null (nothing nested)."""

    default_error_messages = {
        "too_many": "At most {max} keys.",
        "bad_key": "Keys are 1-64 characters and may not start with '$' or contain '.'.",
        "bad_value": "Values must be strings (at most 1000 characters), numbers, booleans or null.",
    }

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if len(data) > PREFERENCES_MAX_KEYS:
            self.fail("too_many", max=PREFERENCES_MAX_KEYS)
        for key, value in data.items():
            if not key or len(key) > 64 or key.startswith("$") or "." in key or "\x00" in key:
                self.fail("bad_key")
            if not self._scalar(value):
                self.fail("bad_value")
        return data

    @staticmethod
    def _scalar(value) -> bool:
        if value is None or isinstance(value, bool):
            return True
        if isinstance(value, float):
            # 1e400 parses as infinity, which no JSON response can carry: every read would 500.
            return math.isfinite(value)
        if isinstance(value, int):
            return -INT64 <= value < INT64  # what MongoDB can store
        return isinstance(value, str) and len(value) <= 1000 and "\x00" not in value


class AddDetailsInput(UserIdInput):
    address = serializers.CharField(max_length=500, required=False, allow_null=True, allow_blank=True)
    phone = serializers.CharField(max_length=16, required=False, allow_null=True, validators=[PHONE_VALIDATOR])
    preferences = PreferencesField(required=False)


class JoinedUserOutput(serializers.Serializer):
    _id = serializers.CharField()
    username = serializers.CharField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=ROLES)
    email_verified = serializers.BooleanField()
    linked_id = serializers.CharField(allow_null=True)
    linked_ids = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()


class DetailsOutput(serializers.Serializer):
    _id = serializers.CharField()
    user_id = serializers.CharField(source="user")
    address = serializers.CharField(allow_null=True, default=None)
    phone = serializers.CharField(allow_null=True, default=None)
    preferences = serializers.DictField(default=dict)


class UserWithDetailsOutput(serializers.Serializer):
    """The join: the user and their details (null when they have none)."""

    user = JoinedUserOutput()
    details = DetailsOutput(allow_null=True)


class AvatarInput(serializers.Serializer):
    """The upload. Only its bytes count: the file name and declared type are ignored."""

    file = serializers.FileField(help_text="A JPEG or PNG image of at most AVATAR_MAX_BYTES (5 MB by default).")


class AvatarOutput(serializers.Serializer):
    message = serializers.CharField()
    avatar_url = serializers.CharField()


@extend_schema_field({"type": "string", "nullable": True})
class AvatarUrlField(serializers.Field):
    """`avatar_url` in the user representation: the avatar's absolute URL, or null."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, user) -> str | None:
        if not user.has_avatar:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(avatar_path(user.id)) if request else avatar_path(user.id)


user_output_field_add("avatar_url", AvatarUrlField(), after="linked_ids")
