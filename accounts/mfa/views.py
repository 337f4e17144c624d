"""Two-factor endpoints (accounts/mfa/two_factor.py holds the rules).

| path                                          | viewset action                    |
|-----------------------------------------------|-----------------------------------|
| POST, DELETE /users/{user_id}/mfa/totp        | TwoFactorViewSet.totp             |
| POST /users/{user_id}/mfa/totp/confirm        | TwoFactorViewSet.totp_confirm     |
| POST /users/{user_id}/mfa/recovery_codes      | TwoFactorViewSet.recovery_codes   |
| DELETE /users/{user_id}/mfa (admin)           | TwoFactorViewSet.reset            |
| POST /auth/mfa                                | MfaLoginViewSet.mfa               |
"""
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.mfa.passkeys.credentials import credential_json
from accounts.mfa import two_factor
from accounts.openapi import BodyOnDeleteSchema
from accounts.users.permissions import IsAdmin, IsOwner, IsOwnerOrAdmin, owner_only
from accounts.users.serializers import LoginOutput, ReauthInput, login_body
from accounts.users.throttles import ReauthThrottle
from accounts.mfa.serializers import MfaLoginInput, RecoveryCodesOutput, TotpConfirmInput, TotpStartOutput
from common.client_ip import ScopedClientThrottle, client_ip, user_agent
from common.openapi import ERRORS, Detail, ValidationErrors
from common.public import PublicMixin
from common.routes import UserRouteMixin
from common.validation import validated

OWNER_ONLY = "Only the account's owner may change its two-factor settings."


class TwoFactorViewSet(UserRouteMixin, viewsets.GenericViewSet):
    """TOTP enrolment and recovery codes (the owner only, with the password), and an admin's reset."""

    schema = BodyOnDeleteSchema()  # DELETE /users/{user_id}/mfa/totp takes {current_password}

    serializers = {"totp": ReauthInput, "totp_confirm": TotpConfirmInput, "recovery_codes": ReauthInput}
    # Not even an admin: whoever holds the second factor must be the person (decided before the body is read).
    owner_actions = dict.fromkeys(("totp", "totp_confirm", "recovery_codes"), OWNER_ONLY)

    def get_serializer_class(self):
        return self.serializers.get(self.action, ReauthInput)

    def get_throttles(self):
        # Every request that asks for the person again, or guesses an enrolment's code, counts
        # against the caller's `reauth` rate (issue 21): so does an admin's reset of their own.
        if self.action in ("totp", "totp_confirm", "recovery_codes") or self._resets_own():
            return [ReauthThrottle()]
        return super().get_throttles()

    def _resets_own(self) -> bool:
        caller = getattr(self.request, "user", None)
        return self.action == "reset" and caller is not None and self.kwargs.get("user_id") == str(caller.pk)

    def get_permissions(self):
        if self.action == "reset":
            return [IsAuthenticated(), IsAdmin()]
        if owner_only(self):
            return [IsAuthenticated(), IsOwner()]
        return [IsAuthenticated(), IsOwnerOrAdmin()]

    @extend_schema(methods=["POST"], request=ReauthInput, responses={200: TotpStartOutput, 409: Detail, **ERRORS})
    @extend_schema(methods=["DELETE"], request=ReauthInput, responses={204: None, **ERRORS})
    @action(detail=True, methods=["post", "delete"], url_path="mfa/totp")
    def totp(self, request, user_id: str):
        data = validated(ReauthInput, request.data)
        user = request.user
        if request.method == "DELETE":
            two_factor.totp_disable(user=user, ip=client_ip(request), **data)
            return Response(status=status.HTTP_204_NO_CONTENT)
        secret, uri = two_factor.totp_enrol_start(user=user, ip=client_ip(request), **data)
        return Response({"secret": secret, "otpauth_uri": uri})

    @extend_schema(request=TotpConfirmInput, responses={200: RecoveryCodesOutput, 409: Detail, **ERRORS})
    @action(detail=True, methods=["post"], url_path="mfa/totp/confirm")
    def totp_confirm(self, request, user_id: str):
        data = validated(TotpConfirmInput, request.data)
        user = request.user
        codes = two_factor.totp_enrol_confirm(user=user, code=data["code"], ip=client_ip(request))
        return Response({"recovery_codes": codes})

    @extend_schema(request=ReauthInput, responses={200: RecoveryCodesOutput, 409: Detail, **ERRORS})
    @action(detail=True, methods=["post"], url_path="mfa/recovery_codes")
    def recovery_codes(self, request, user_id: str):
        data = validated(ReauthInput, request.data)
        user = request.user
        codes = two_factor.recovery_codes_regenerate(user=user, ip=client_ip(request), **data)
        return Response({"recovery_codes": codes})

    @extend_schema(
        request=ReauthInput,
        responses={204: None, 400: ValidationErrors, 401: Detail, 403: Detail, 404: Detail, 429: Detail},
    )
    @action(detail=True, methods=["delete"], url_path="mfa")
    def reset(self, request, user_id: str):
        # The owner's rules for one's own two-factor, whoever one is: an admin's access token alone
        # must not turn off that admin's second factor (issue 21).
        proof = validated(ReauthInput, request.data) if self._resets_own() else {}
        two_factor.mfa_reset(user=self.get_object(), actor=request.user, ip=client_ip(request), **proof)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MfaLoginViewSet(PublicMixin, viewsets.GenericViewSet):
    """The second step of a login with two-factor on."""

    serializer_class = MfaLoginInput
    throttle_classes = [ScopedClientThrottle]
    throttle_scope = "login"

    @extend_schema(request=MfaLoginInput, responses={200: LoginOutput, 400: ValidationErrors, 401: Detail, 429: Detail}, auth=[])
    @action(detail=False, methods=["post"], url_path="auth/mfa")
    def mfa(self, request):
        data = validated(MfaLoginInput, request.data)
        outcome = two_factor.mfa_login(
            raw_token=data["mfa_token"],
            code=data.get("code"),
            recovery_code=data.get("recovery_code"),
            webauthn=(data["ceremony"], credential_json(data["credential"])) if "ceremony" in data else None,
            ip=client_ip(request),
            user_agent=user_agent(request),
        )
        return Response(login_body(outcome))
