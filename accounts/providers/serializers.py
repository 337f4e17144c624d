"""Input and output shapes of provider sign-in. Validation only; the rules are in services.py."""
from django.core.validators import RegexValidator
from rest_framework import serializers

# RFC 7636: a PKCE verifier is 43-128 characters of A-Z a-z 0-9 - . _ ~
CODE_VERIFIER = RegexValidator(r"^[A-Za-z0-9._~-]{43,128}\Z", "43-128 characters: letters, digits and - . _ ~ (RFC 7636).")


class ProviderOutput(serializers.Serializer):
    id = serializers.CharField(help_text="The provider's id in the paths below.")
    name = serializers.CharField(help_text="A name to show on a sign-in button.")


class RedirectQuery(serializers.Serializer):
    next = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2048,
        help_text="Where to send the browser afterwards: a path here, or a URL on an origin of OIDC_ALLOWED_NEXT_ORIGINS.",
    )


class CallbackQuery(serializers.Serializer):
    state = serializers.CharField(required=False, allow_blank=True, max_length=512)
    code = serializers.CharField(required=False, allow_blank=True, max_length=2048)
    error = serializers.CharField(required=False, allow_blank=True, max_length=256)
    error_description = serializers.CharField(required=False, allow_blank=True, max_length=1024)


class CodeInput(serializers.Serializer):
    """A code a client obtained itself, by a redirect it made with its own PKCE verifier, state
    (its own to check) and nonce."""

    code = serializers.CharField(max_length=2048)
    code_verifier = serializers.CharField(validators=[CODE_VERIFIER])
    redirect_uri = serializers.URLField(max_length=2048, help_text="The redirect URI the code was issued for (registered at the provider).")
    nonce = serializers.CharField(
        required=False, max_length=512, help_text="The nonce the client sent, if any: the id token must carry it."
    )


class IdentityOutput(serializers.Serializer):
    id = serializers.CharField()
    provider = serializers.CharField(help_text="The id of the provider it was linked through.")
    subject = serializers.CharField(help_text="The person's id at the provider (`sub`).")
    email = serializers.CharField(allow_null=True, help_text="The email the provider gave when it was linked.")
    created_at = serializers.DateTimeField()


def identity_output(identity) -> dict:
    return {
        "id": str(identity.id),
        "provider": identity.provider,
        "subject": identity.subject,
        "email": identity.email,
        "created_at": identity.created_at,
    }
