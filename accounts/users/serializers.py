"""Input and output shapes of the accounts endpoints. Validation only; rules live in services."""
from collections.abc import Mapping

from django.core.validators import RegexValidator
from rest_framework import serializers

from accounts.mfa.serializers import TotpCodeField
from accounts.users import identity
from accounts.users.documents import ROLES
from accounts.users.selectors import linked_ids_attach

USERNAME_VALIDATOR = RegexValidator(
    r"^[\w .-]{3,150}\Z", "3-150 characters: letters, digits, spaces and . _ - only."
)
LINKED_ID_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9._:@-]{1,128}\Z", "1-128 characters: letters, digits and . _ : @ - only."
)
# Long enough for any passphrase, short enough that hashing it is not a denial of service.
PASSWORD_MAX_LENGTH = 1024


class PasswordField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("write_only", True)
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("max_length", PASSWORD_MAX_LENGTH)
        kwargs.setdefault("style", {"input_type": "password"})
        super().__init__(**kwargs)


class UsernameField(serializers.CharField):
    """NFKC-normalised (as Django's user model does), then letters of one script, digits, spaces
    and `. _ -` (accounts/users/identity.py says why)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_length", 3)
        kwargs.setdefault("max_length", 150)
        kwargs.setdefault("validators", [USERNAME_VALIDATOR])
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = identity.username_normalize(super().to_internal_value(data))
        if identity.refused_characters(value):
            raise serializers.ValidationError("Control, format and bidi characters are not allowed.")
        return value

    def run_validators(self, value):
        super().run_validators(value)
        error = identity.username_scripts_error(value)
        if error:
            raise serializers.ValidationError(error)


class IdentityEmailField(serializers.EmailField):
    """An email with its domain in the stored form (IDNA A-label when not ASCII); no control,
    format or bidi characters."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 254)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            normalised = identity.email_normalize(value)
        except identity.EmailError:
            self.fail("invalid")
        if len(normalised) > 254:
            self.fail("max_length", max_length=254)
        return normalised


class RegisterInput(serializers.Serializer):
    """Unknown keys (such as `role`) are ignored: nobody makes themselves an admin here."""

    username = UsernameField()
    email = IdentityEmailField()
    password = PasswordField()


class RegisterOutput(serializers.Serializer):
    message = serializers.CharField()
    user_id = serializers.CharField()


class LoginInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = PasswordField()


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class LoginOutput(TokenPairOutput):
    message = serializers.CharField()
    user_id = serializers.CharField()


class MfaRequiredOutput(serializers.Serializer):
    message = serializers.CharField()
    mfa_required = serializers.BooleanField()
    mfa_token = serializers.CharField(help_text="Present it with a code at POST /auth/mfa within 5 minutes; it works once.")
    mfa_methods = serializers.ListField(
        child=serializers.ChoiceField(choices=["totp", "webauthn", "recovery_code"]),
        help_text="The second factors this account has: `totp` (a code), `webauthn` (a passkey: POST /auth/mfa/webauthn/options first), `recovery_code`.",
    )


class RefreshInput(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class UserIdInput(serializers.Serializer):
    user_id = serializers.CharField(max_length=64)


class LinkIdInput(UserIdInput):
    linked_id = serializers.CharField(max_length=128, validators=[LINKED_ID_VALIDATOR])


class LinkIdOutput(serializers.Serializer):
    message = serializers.CharField()
    linked_id = serializers.CharField()


class UserOutput(serializers.Serializer):
    id = serializers.CharField()
    username = serializers.CharField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=ROLES)
    email_verified = serializers.BooleanField()
    linked_ids = serializers.ListField(child=serializers.CharField(), default=list)
    mfa_enabled = serializers.BooleanField(default=False)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ReauthInput(serializers.Serializer):
    """The proof a sensitive change asks for, checked by the one gate (accounts/users/reauth.py):
    the account's `current_password`, or, with two-factor on, a TOTP `code` or an unused
    `recovery_code`. `current_password` is required unless one of the other two is sent (and
    `proof_required` is true; an email change asks for the proof only when the owner makes it)."""

    proof_required = True
    current_password = PasswordField(required=False)
    code = TotpCodeField(required=False, help_text="Instead of `current_password`, with two-factor on: a code of the authenticator app.")
    recovery_code = serializers.CharField(
        required=False, max_length=64, help_text="Instead of `current_password`, with two-factor on: an unused recovery code (it is used up)."
    )

    def get_fields(self):
        fields = super().get_fields()
        data = getattr(self, "initial_data", None)
        other_proof = isinstance(data, Mapping) and bool(data.get("code") or data.get("recovery_code"))
        fields["current_password"].required = self.proof_required and not other_proof
        return fields


class UserUpdateInput(ReauthInput):
    proof_required = False
    username = UsernameField(required=False)
    email = IdentityEmailField(required=False)
    # Write-only: the browsable API pre-fills its PATCH form from this serializer's output, and a
    # form that sends the current role back is refused for anyone but an admin.
    role = serializers.ChoiceField(choices=ROLES, required=False, write_only=True, help_text="Admins only.")
    current_password = PasswordField(required=False, help_text="Required when the owner changes their email (or `code`, `recovery_code`).")


class PasswordChangeInput(ReauthInput):
    new_password = PasswordField()


class ImportUserInput(serializers.Serializer):
    """One user of the older systems, as `manage.py import_users` reads it."""

    username = UsernameField()
    email = IdentityEmailField()
    password_hash = serializers.CharField(trim_whitespace=False)
    linked_id = serializers.CharField(max_length=128, required=False, allow_null=True, validators=[LINKED_ID_VALIDATOR])

    def validate_password_hash(self, value: str) -> str:
        from accounts.users.hashers import LegacyBcryptPasswordHasher

        if not LegacyBcryptPasswordHasher.is_raw_bcrypt(value):
            raise serializers.ValidationError("Expected a bcrypt hash ($2b$...).")
        return value


def login_body(outcome) -> dict:
    """The answer of a login (API.md) for a `sessions.tokens.LoginOutcome`: tokens (`LoginOutput`),
    or the request for a second factor (`MfaRequiredOutput`)."""
    if outcome.mfa_token is not None:
        return {
            "message": "Two-factor code required.",
            "mfa_required": True,
            "mfa_token": outcome.mfa_token,
            "mfa_methods": outcome.mfa_methods or [],
        }
    refresh = outcome.refresh
    return {"message": "Login successful", "user_id": str(outcome.user.id), "access": str(refresh.access_token), "refresh": str(refresh)}


def user_rendered(request, user) -> dict:
    """The user representation, with their linked ids (one query)."""
    return UserOutput(linked_ids_attach([user])[0], context={"request": request}).data
