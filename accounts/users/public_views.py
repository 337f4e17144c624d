"""The endpoints anyone may call: register, login, token refresh and logout."""
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.openapi import EmailNotVerifiedOutput, UsernameConflict
from accounts.users.serializers import (
    LoginInput,
    LoginOutput,
    MfaRequiredOutput,
    RefreshInput,
    RegisterInput,
    RegisterOutput,
    TokenPairOutput,
    login_body,
)
from accounts.sessions import tokens
from accounts.users import login as login_service
from accounts.users import registration
from common.client_ip import DeferredScopedClientThrottle, ScopedClientThrottle, client_ip, user_agent
from common.public import PublicMixin
from common.openapi import Detail, ValidationErrors
from common.validation import validated


class AuthViewSet(PublicMixin, viewsets.GenericViewSet):
    throttle_classes = [ScopedClientThrottle]

    @property
    def throttle_scope(self) -> str:
        # Refreshes are routine for a signed-in client: they get their own, larger budget.
        return "login" if self.action == "login" else "token"

    def get_serializer_class(self):
        return LoginInput if self.action == "login" else RefreshInput

    def get_throttles(self):
        # The login's hit is counted by the login, with its lock-out's counters (one round trip).
        return [DeferredScopedClientThrottle()] if self.action == "login" else super().get_throttles()

    @extend_schema(
        request=LoginInput,
        responses={
            200: PolymorphicProxySerializer("LoginResult", [LoginOutput, MfaRequiredOutput], None),
            400: ValidationErrors,
            401: Detail,
            403: EmailNotVerifiedOutput,
            429: Detail,
        },
        auth=[],
    )
    @action(detail=False, methods=["post"], url_path="login")
    def login(self, request):
        data = validated(LoginInput, request.data)
        outcome = login_service.user_login(
            email=data["email"],
            password=data["password"],
            ip=client_ip(request),
            user_agent=user_agent(request),
            rate=getattr(request, "rate_hit", None),
        )
        return Response(login_body(outcome))

    @extend_schema(request=RefreshInput, responses={200: TokenPairOutput, 400: ValidationErrors, 401: Detail, 429: Detail}, auth=[])
    @action(detail=False, methods=["post"], url_path="auth/refresh")
    def refresh(self, request):
        data = validated(RefreshInput, request.data)
        refresh = tokens.token_refresh(raw_refresh=data["refresh"], ip=client_ip(request), user_agent=user_agent(request))
        return Response({"access": str(refresh.access_token), "refresh": str(refresh)})

    @extend_schema(request=RefreshInput, responses={204: None, 400: ValidationErrors, 401: Detail, 429: Detail}, auth=[])
    @action(detail=False, methods=["post"], url_path="auth/logout")
    def logout(self, request):
        data = validated(RefreshInput, request.data)
        tokens.token_revoke(raw_refresh=data["refresh"], ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegisterViewSet(PublicMixin, viewsets.GenericViewSet):
    serializer_class = RegisterInput
    throttle_classes = [ScopedClientThrottle]
    throttle_scope = "register"

    @extend_schema(request=RegisterInput, responses={201: RegisterOutput, 400: ValidationErrors, 409: UsernameConflict, 429: Detail}, auth=[])
    @action(detail=False, methods=["post"], url_path="register")
    def register(self, request):
        data = validated(RegisterInput, request.data)
        user = registration.user_sign_up(**data)
        return Response({"message": "User registered successfully", "user_id": str(user.id)}, status=status.HTTP_201_CREATED)
