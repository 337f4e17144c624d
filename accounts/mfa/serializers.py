"""Input and output shapes of the two-factor endpoints (accounts/mfa/views.py)."""
from rest_framework import serializers

from accounts.mfa.codes import NOT_A_CODE, totp_code_parse


class TotpStartOutput(serializers.Serializer):
    secret = serializers.CharField(help_text="Base32; type it into an authenticator app, or use the URI.")
    otpauth_uri = serializers.CharField(help_text="An otpauth://totp/ URI, for a QR code.")


class TotpCodeField(serializers.CharField):
    """Six ASCII digits; spaces (as apps show `123 456`) are dropped (accounts/mfa/codes.py)."""

    default_error_messages = {"not_a_code": NOT_A_CODE}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 16)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        code = totp_code_parse(super().to_internal_value(data))
        if code is None:
            self.fail("not_a_code")
        return code


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
