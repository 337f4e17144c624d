"""Input and output shapes of the two-factor endpoints (accounts/mfa/views.py)."""
from rest_framework import serializers

from accounts.mfa.passkeys.credentials import AuthenticationCredentialInput, CeremonyField
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
