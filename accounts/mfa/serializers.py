"""Input and output shapes of the two-factor endpoints (accounts/mfa/views.py)."""
from django.core.validators import RegexValidator
from rest_framework import serializers

from accounts.mfa.passkeys.credentials import AuthenticationCredentialInput, CeremonyField


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
    """`mfa_token` from the login, with one second factor: a TOTP `code`, a `recovery_code`, or
    a passkey's answer (`ceremony` from POST /auth/mfa/webauthn/options and `credential`)."""

    mfa_token = serializers.CharField(max_length=4096)
    code = TotpCodeField(required=False)
    recovery_code = serializers.CharField(required=False, max_length=64)
    ceremony = CeremonyField(required=False)
    credential = AuthenticationCredentialInput(required=False)

    def validate(self, attrs):
        passkey = "ceremony" in attrs or "credential" in attrs
        if ("code" in attrs) + ("recovery_code" in attrs) + passkey != 1:
            raise serializers.ValidationError({"code": ["Give either `code`, `recovery_code`, or `ceremony` with `credential`."]})
        if passkey and not ("ceremony" in attrs and "credential" in attrs):
            raise serializers.ValidationError({"credential": ["A passkey's answer needs both `ceremony` and `credential`."]})
        return attrs
