"""The shape of the export: everything stored about a user."""
from rest_framework import serializers


class ExportedAccount(serializers.Serializer):
    """The stored account as it is in the database, without its password hash. Only the keys
    every account has are listed; the stored document may hold more."""

    _id = serializers.CharField()
    username = serializers.CharField()
    email = serializers.CharField()
    role = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class UserExportOutput(serializers.Serializer):
    """Everything stored about a user: the account, and their documents in every collection."""
    # Only documents the answer of GET /users/{user_id}/export; accounts.user_data.services builds it.

    user = ExportedAccount()
    collections = serializers.DictField(
        child=serializers.ListField(child=serializers.DictField()),
        help_text="Every document of the user's, by collection name: each holds its `_id` and `user`; ids and dates as strings.",
    )
