"""Input and output shapes of the two-factor endpoints (accounts/mfa/views.py)."""
from django.core.validators import RegexValidator
from rest_framework import serializers


class TotpStartOutput(serializers.Serializer):
    secret = serializers.CharField(help_text="Base32; type it into an authenticator app, or use the URI.")
    otpauth_uri = serializers.CharField(help_text="An otpauth://totp/ URI, for a QR code.")


TOTP_CODE_VALIDATOR = RegexValidator(r"^[0-9]{6}\Z", "Six digits.")


class TotpCodeField(serializers.CharField):
    """Six digits; spaces (as apps show `123 456`) are dropped."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("validators", [TOTP_CODE_VALIDATOR])
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        return "".join(value.split())


class TotpConfirmInput(serializers.Serializer):
    code = TotpCodeField()


class RecoveryCodesOutput(serializers.Serializer):
    recovery_codes = serializers.ListField(child=serializers.CharField(), help_text="Shown this once; each works once.")


class MfaLoginInput(serializers.Serializer):
    """`mfa_token` from the login, with either a TOTP `code` or a `recovery_code`."""

    mfa_token = serializers.CharField(max_length=4096)
    code = TotpCodeField(required=False)
    recovery_code = serializers.CharField(required=False, max_length=64)

    def validate(self, attrs):
        if ("code" in attrs) == ("recovery_code" in attrs):
            raise serializers.ValidationError({"code": ["Give either `code` or `recovery_code`."]})
        return attrs
