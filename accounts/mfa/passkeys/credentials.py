"""The WebAuthn Level 3 JSON forms a credential travels in (`RegistrationResponseJSON`,
`AuthenticationResponseJSON`: binary fields as base64url strings), as a browser's
`PublicKeyCredential.toJSON()` writes them. Their shape is checked here (so that a malformed one
is a 400 naming the field); what they mean is checked by the library (relying_party.py). No
import of the rest of `accounts`: the two-factor step's input (accounts/mfa/serializers.py) uses
these too.
"""
import re

from rest_framework import serializers

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
