"""Email endpoints: verification and password reset. Thin: validate, call one service, render.

| path                                | viewset action                      |
|-------------------------------------|-------------------------------------|
| POST /auth/email/verify             | EmailTokenViewSet.verify            |
| POST /auth/password/reset           | EmailTokenViewSet.password_reset    |
| POST /auth/password/reset/confirm   | EmailTokenViewSet.password_reset_confirm |
| POST /auth/email/resend             | EmailResendViewSet.resend (signed in) |

The email change itself is `PATCH /users/{user_id}` (users.UserViewSet.partial_update, `account.user_update`).
"""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.users.serializers import PasswordField
from accounts.emails import email_verification, password_reset
from accounts.emails.email_tokens import TOKEN_MAX_LENGTH
from common.client_ip import ScopedClientThrottle, client_ip
from common.openapi import Detail, MessageOutput, ValidationErrors
from common.public import PublicMixin
from common.validation import validated


class TokenInput(serializers.Serializer):
    token = serializers.CharField(max_length=TOKEN_MAX_LENGTH, trim_whitespace=True, help_text="The token from the email's link.")


class PasswordResetInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmInput(TokenInput):
    new_password = PasswordField()


class EmailTokenViewSet(PublicMixin, viewsets.GenericViewSet):
    """Anyone may call these: the token from the mail, or an address, is the credential."""

    throttle_classes = [ScopedClientThrottle]
    serializer_classes = {"verify": TokenInput, "password_reset": PasswordResetInput, "password_reset_confirm": PasswordResetConfirmInput}

    @property
    def throttle_scope(self) -> str:
        # Tokens are per client address: 256 random bits, and at most THROTTLE_EMAIL_TOKEN tries.
        return "password_reset" if self.action == "password_reset" else "email_token"

    def get_serializer_class(self):
        return self.serializer_classes.get(self.action, TokenInput)

    @extend_schema(request=TokenInput, responses={200: MessageOutput, 400: ValidationErrors, 429: Detail}, auth=[])
    @action(detail=False, methods=["post"], url_path="auth/email/verify")
    def verify(self, request):
        """Mark the address verified with the token from the verification email."""
        data = validated(TokenInput, request.data)
        email_verification.email_verify(token=data["token"], ip=client_ip(request))
        return Response({"message": "Email verified."})

    @extend_schema(request=PasswordResetInput, responses={202: MessageOutput, 400: ValidationErrors, 429: Detail}, auth=[])
    @action(detail=False, methods=["post"], url_path="auth/password/reset")
    def password_reset(self, request):
        """Mail a reset link if an account uses this address. The answer is the same either way."""
        data = validated(PasswordResetInput, request.data)
        password_reset.password_reset_request(email=data["email"], ip=client_ip(request))
        return Response({"message": password_reset.RESET_SENT}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=PasswordResetConfirmInput, responses={204: None, 400: ValidationErrors, 429: Detail}, auth=[])
    @action(detail=False, methods=["post"], url_path="auth/password/reset/confirm")
    def password_reset_confirm(self, request):
        """Set a new password with the token from the reset email; every session of the user ends."""
        data = validated(PasswordResetConfirmInput, request.data)
        password_reset.password_reset_confirm(token=data["token"], new_password=data["new_password"], ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailResendViewSet(viewsets.GenericViewSet):
    """The signed-in caller asks for a fresh verification link (the previous one stops working)."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [ScopedClientThrottle]
    throttle_scope = "email_resend"  # per user: DRF keys the count by the caller's id
    serializer_class = MessageOutput

    @extend_schema(request=None, responses={202: MessageOutput, 401: Detail, 409: Detail, 429: Detail})
    @action(detail=False, methods=["post"], url_path="auth/email/resend")
    def resend(self, request):
        """Mail a fresh verification link to the caller's address; 409 if it is verified already."""
        email_verification.verification_resend(user=request.user)
        return Response({"message": "Verification email sent."}, status=status.HTTP_202_ACCEPTED)
