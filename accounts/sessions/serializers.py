"""Input and output shapes of the session endpoints (accounts/sessions/views.py)."""
from rest_framework import serializers

SESSION_ID = r"[0-9a-fA-F]{24}"


class SessionOutput(serializers.Serializer):
    id = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField()
    ip = serializers.CharField(allow_null=True)
    user_agent = serializers.CharField(allow_blank=True)
    current = serializers.BooleanField(help_text="This is the session of the token that made the request.")
