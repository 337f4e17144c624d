"""Input and output shapes of the passkey endpoints (accounts/mfa/passkeys/views.py).

Credentials travel in the WebAuthn Level 3 JSON forms (`RegistrationResponseJSON`,
`AuthenticationResponseJSON`: binary fields as base64url strings), as a browser's
`PublicKeyCredential.toJSON()` writes them. Their shape is checked here (so that a malformed one
is a 400 naming the field); what they mean is checked by the library (services.py).
"""
import re

from rest_framework import serializers

from accounts.mfa.passkeys.documents import PASSKEY_NAME_MAX
from accounts.users.serializers import PasswordField
from accounts.users.user_extensions import user_output_field_add

B64URL = re.compile(r"^[A-Za-z0-9_-]*={0,2}\Z")
# Generous bounds: an attestation with a certificate chain runs to a few kilobytes.
FIELD_MAX = 16_384


class Base64UrlField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", FIELD_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not B64URL.match(value):
            raise serializers.ValidationError("Base64url text.")
        return value


class AttestationResponseInput(serializers.Serializer):
    clientDataJSON = Base64UrlField()
    attestationObject = Base64UrlField()
    transports = serializers.ListField(child=serializers.CharField(max_length=32), required=False, max_length=8)


class AssertionResponseInput(serializers.Serializer):
    clientDataJSON = Base64UrlField()
    authenticatorData = Base64UrlField()
    signature = Base64UrlField()
    userHandle = Base64UrlField(required=False, allow_null=True, allow_blank=True)


class _CredentialInput(serializers.Serializer):
    id = Base64UrlField(max_length=1400)
    rawId = Base64UrlField(max_length=1400)
    type = serializers.ChoiceField(choices=["public-key"])
    authenticatorAttachment = serializers.ChoiceField(choices=["platform", "cross-platform"], required=False, allow_null=True)
    clientExtensionResults = serializers.DictField(required=False)


class RegistrationCredentialInput(_CredentialInput):
    """`RegistrationResponseJSON`: what `navigator.credentials.create()` gave, as `toJSON()` writes it."""

    response = AttestationResponseInput()


class AuthenticationCredentialInput(_CredentialInput):
    """`AuthenticationResponseJSON`: what `navigator.credentials.get()` gave, as `toJSON()` writes it."""

    response = AssertionResponseInput()


def credential_json(data: dict) -> dict:
    """The validated credential as the library reads it (only the keys it knows, no None)."""
    out = {k: v for k, v in data.items() if v is not None}
    out["response"] = {k: v for k, v in data["response"].items() if v not in (None, "")}
    out.setdefault("clientExtensionResults", {})
    return out


class CeremonyField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 128)
        kwargs.setdefault("help_text", "The `ceremony` of the options this answers (single use, 5 minutes).")
        super().__init__(**kwargs)


class RegistrationOptionsInput(serializers.Serializer):
    current_password = PasswordField(help_text="Adding a way to sign in is a sensitive change: the password again.")


class CeremonyOptionsOutput(serializers.Serializer):
    ceremony = serializers.CharField(help_text="Opaque id of this ceremony's challenge; send it back with the credential.")
    publicKey = serializers.DictField(
        help_text="The options in the WebAuthn Level 3 JSON form: give them to "
        "`PublicKeyCredential.parseCreationOptionsFromJSON()` (registration) or "
        "`parseRequestOptionsFromJSON()` (sign-in), then to `navigator.credentials.create()` / `.get()`."
    )


class PasskeyRegisterInput(serializers.Serializer):
    ceremony = CeremonyField()
    credential = RegistrationCredentialInput()
    name = serializers.CharField(required=False, allow_blank=True, max_length=PASSKEY_NAME_MAX, help_text="Shown in the list; default: the date.")


class PasskeyRenameInput(serializers.Serializer):
    name = serializers.CharField(max_length=PASSKEY_NAME_MAX)


class PasskeyOutput(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class PasskeyLoginOptionsInput(serializers.Serializer):
    email = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=254,
        help_text="Optional: list this account's passkeys. Without it the browser offers the passkeys it holds.",
    )


class PasskeyLoginInput(serializers.Serializer):
    ceremony = CeremonyField()
    credential = AuthenticationCredentialInput()


class MfaWebAuthnOptionsInput(serializers.Serializer):
    mfa_token = serializers.CharField(max_length=4096)


# Every user representation says how many passkeys the account holds (no query: a stored count).
user_output_field_add("passkeys_count", serializers.IntegerField(default=0), after="mfa_enabled")
