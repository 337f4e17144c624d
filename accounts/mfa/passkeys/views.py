"""Passkey endpoints (accounts/mfa/passkeys/services.py holds the rules).

| path                                                   | viewset action                   |
|--------------------------------------------------------|----------------------------------|
| POST /users/{user_id}/passkeys/options                 | PasskeyViewSet.options_create    |
| GET, POST /users/{user_id}/passkeys                    | PasskeyViewSet.passkeys          |
| PATCH, DELETE /users/{user_id}/passkeys/{passkey_id}   | PasskeyViewSet.passkey           |
| POST /auth/passkey/options                             | PasskeyLoginViewSet.login_options|
| POST /auth/passkey                                     | PasskeyLoginViewSet.login        |
| POST /auth/mfa/webauthn/options                        | PasskeyLoginViewSet.mfa_options  |
"""
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.sessions.selectors import SESSION_CLAIM
from accounts.mfa import two_factor
from accounts.mfa.passkeys import selectors, services, sign_in
from accounts.mfa.passkeys.serializers import (
    CeremonyOptionsOutput,
    MfaWebAuthnOptionsInput,
    PasskeyLoginInput,
    PasskeyLoginOptionsInput,
    PasskeyOutput,
    PasskeyRegisterInput,
    PasskeyRenameInput,
    RegistrationOptionsInput,
    credential_json,
)
from accounts.users.permissions import IsOwner, IsOwnerOrAdmin, owner_only
from accounts.users.throttles import ReauthThrottle
from accounts.users.serializers import LoginOutput
from accounts.users.login import passkey_login
from accounts.users.serializers import login_body
from common.public import PublicMixin
from common.client_ip import ScopedClientThrottle, client_ip, user_agent
from common.openapi import ERRORS, Detail, ValidationErrors
from common.routes import UserRouteMixin
from common.validation import validated

OWNER_ONLY = "Only the account's owner may add or rename its passkeys."
PASSKEY_ID = r"[0-9a-fA-F]{24}"


def _passkey_row(passkey) -> dict:
    return {"id": str(passkey.id), "name": passkey.name, "created_at": passkey.created_at, "last_used_at": passkey.last_used_at}


class PasskeyViewSet(UserRouteMixin, viewsets.GenericViewSet):
    """A user's passkeys: added and renamed by the owner, listed and removed by the owner or an admin."""

    serializers = {"options_create": RegistrationOptionsInput, "passkey": PasskeyRenameInput}
    # Not even an admin adds or renames one: a passkey is a way into the account for whoever holds
    # it (decided before the body is read; listing and removing are the owner's or an admin's).
    owner_actions = {"options_create": OWNER_ONLY, ("passkeys", "POST"): OWNER_ONLY, ("passkey", "PATCH"): OWNER_ONLY}

    def get_permissions(self):
        if owner_only(self):
            return [IsAuthenticated(), IsOwner()]
        return [IsAuthenticated(), IsOwnerOrAdmin()]

    def get_serializer_class(self):
        if self.action == "passkeys":
            return PasskeyRegisterInput if self.request and self.request.method == "POST" else PasskeyOutput
        return self.serializers.get(self.action, PasskeyOutput)

    def get_queryset(self):
        return []  # for the browsable API's list pages; the passkeys come from the selector

    def get_throttles(self):
        # Adding a passkey asks for the person again: it counts against the caller's `reauth`
        # rate like every other request that does (issue 21).
        if self.action == "options_create":
            return [ReauthThrottle()]
        return super().get_throttles()

    @extend_schema(request=RegistrationOptionsInput, responses={200: CeremonyOptionsOutput, 409: Detail, 429: Detail, **ERRORS})
    @action(detail=True, methods=["post"], url_path="passkeys/options")
    def options_create(self, request, user_id: str):
        data = validated(RegistrationOptionsInput, request.data)
        user = request.user
        session_id = request.auth.get(SESSION_CLAIM, "")
        return Response(services.passkey_registration_options(user=user, session_id=session_id, ip=client_ip(request), **data))

    @extend_schema(methods=["GET"], responses={200: PasskeyOutput(many=True), 401: Detail, 403: Detail, 404: Detail})
    @extend_schema(methods=["POST"], request=PasskeyRegisterInput, responses={201: PasskeyOutput, 409: Detail, **ERRORS})
    @action(detail=True, methods=["get", "post"], url_path="passkeys")
    def passkeys(self, request, user_id: str):
        if request.method == "GET":
            user = self.get_object()
            return Response(PasskeyOutput([_passkey_row(p) for p in selectors.passkeys_list(user=user)], many=True).data)
        data = validated(PasskeyRegisterInput, request.data)
        user = request.user
        passkey = services.passkey_register(
            user=user,
            session_id=request.auth.get(SESSION_CLAIM, ""),
            ceremony=data["ceremony"],
            credential=credential_json(data["credential"]),
            name=data.get("name", ""),
            ip=client_ip(request),
        )
        return Response(PasskeyOutput(_passkey_row(passkey)).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["PATCH"], request=PasskeyRenameInput, responses={200: PasskeyOutput, **ERRORS})
    @extend_schema(methods=["DELETE"], request=None, responses={204: None, 409: Detail, 401: Detail, 403: Detail, 404: Detail})
    @action(detail=True, methods=["patch", "delete"], url_path=rf"passkeys/(?P<passkey_id>{PASSKEY_ID})")
    def passkey(self, request, user_id: str, passkey_id: str):
        if request.method == "DELETE":
            user = self.get_object()
            services.passkey_remove(user=user, passkey_id=passkey_id.lower(), actor=request.user, ip=client_ip(request))
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = validated(PasskeyRenameInput, request.data)
        user = request.user
        return Response(PasskeyOutput(_passkey_row(services.passkey_rename(user=user, passkey_id=passkey_id.lower(), name=data["name"]))).data)


class PasskeyLoginViewSet(PublicMixin, viewsets.GenericViewSet):
    """Signing in with a passkey, and a passkey as the second factor: anyone may call these."""

    throttle_classes = [ScopedClientThrottle]
    throttle_scope = "login"
    serializers = {"login_options": PasskeyLoginOptionsInput, "login": PasskeyLoginInput, "mfa_options": MfaWebAuthnOptionsInput}

    def get_serializer_class(self):
        return self.serializers.get(self.action, PasskeyLoginInput)

    @extend_schema(request=PasskeyLoginOptionsInput, responses={200: CeremonyOptionsOutput, 400: ValidationErrors, 429: Detail}, auth=[])
    @action(detail=False, methods=["post"], url_path="auth/passkey/options")
    def login_options(self, request):
        data = validated(PasskeyLoginOptionsInput, request.data)
        return Response(sign_in.passkey_login_options(email=data.get("email") or None))

    @extend_schema(request=PasskeyLoginInput, responses={200: LoginOutput, 400: ValidationErrors, 403: Detail, 429: Detail}, auth=[])
    @action(detail=False, methods=["post"], url_path="auth/passkey")
    def login(self, request):
        data = validated(PasskeyLoginInput, request.data)
        outcome = passkey_login(
            ceremony=data["ceremony"], credential=credential_json(data["credential"]), ip=client_ip(request), user_agent=user_agent(request)
        )
        return Response(login_body(outcome))

    @extend_schema(request=MfaWebAuthnOptionsInput, responses={200: CeremonyOptionsOutput, 400: ValidationErrors, 401: Detail, 429: Detail}, auth=[])
    @action(detail=False, methods=["post"], url_path="auth/mfa/webauthn/options")
    def mfa_options(self, request):
        data = validated(MfaWebAuthnOptionsInput, request.data)
        user, jti = two_factor.mfa_token_user(raw_token=data["mfa_token"])
        return Response(sign_in.passkey_mfa_options(user=user, mfa_jti=jti))
