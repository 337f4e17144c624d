"""Input and output shapes of the passkey endpoints (accounts/mfa/passkeys/views.py); the
credentials' own shapes are in credentials.py."""
from rest_framework import serializers

from accounts.mfa.passkeys.credentials import (  # noqa: F401  (credential_json: the views' too)
    AuthenticationCredentialInput,
    CeremonyField,
    RegistrationCredentialInput,
    credential_json,
)
from accounts.mfa.passkeys.documents import PASSKEY_NAME_MAX
from accounts.users.serializers import ReauthInput
from accounts.users.user_extensions import user_output_field_add


class RegistrationOptionsInput(ReauthInput):
    """Adding a way to sign in is a sensitive change: the proof of the one re-authentication gate
    (the password again, or with two-factor on a code)."""


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
