"""Accounts endpoints. Thin: validate input, check who may act, call one service, render.

| path                                         | viewset action              |
|----------------------------------------------|-----------------------------|
| POST /login, /auth/refresh, /auth/logout     | AuthViewSet.login/refresh/logout |
| POST /users/register                         | RegisterViewSet.register    |
| POST /users/link_id                          | UserViewSet.link_id         |
| DELETE /users/delete_user/{user_id}          | UserViewSet.delete_user     |
| GET /users (admin)                           | UserViewSet.list            |
| GET, PATCH /users/{user_id}                  | UserViewSet.retrieve/partial_update |
| DELETE /users/{user_id}?reason=              | UserViewSet.trash           |
| POST /users/{user_id}/password               | UserViewSet.password        |
| GET /users/{user_id}/export                  | UserViewSet.export          |
| DELETE /users/{user_id}/linked_ids/{linked_id} | UserViewSet.unlink        |
| GET /users/by_linked_id/{linked_id} (admin)  | UserViewSet.by_linked_id    |
| GET /trash, POST /trash/bulk_delete (admin)  | TrashViewSet.list/bulk_trash |
| POST /trash/{user_id}/restore (admin)        | TrashViewSet.restore        |
| DELETE /trash/{user_id} (admin)              | TrashViewSet.purge          |
"""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from accounts import selectors
from accounts.documents import User
from accounts.pagination import EnvelopePagination
from accounts.permissions import IsAdmin, IsOwnerOrAdmin
from accounts.schema import EmailNotVerifiedOutput, UsernameConflict
from accounts.serializers import (
    BulkTrashInput,
    BulkTrashOutput,
    LinkIdInput,
    LinkIdOutput,
    LoginInput,
    LoginOutput,
    PasswordChangeInput,
    ReasonQuery,
    RefreshInput,
    RegisterInput,
    RegisterOutput,
    TokenPairOutput,
    TrashEntryOutput,
    UserOutput,
    UserQuery,
    UserUpdateInput,
)
from accounts.services import account, email_verification, linked_ids, passwords, tokens, user_data
from accounts.services import login as login_service
from accounts.services import trash as trash_service
from accounts.throttling import client_ip
from common.openapi import ERRORS, Detail, MessageOutput, ValidationErrors
from common.routes import LINKED_ID, USER_ID, UserRouteMixin
from common.validation import validated


class PublicMixin:
    """Endpoints anyone may call. They authenticate nobody, yet a bad token they are given is a
    401 with a `WWW-Authenticate` header (DRF would otherwise turn it into a 403)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'


class AuthViewSet(PublicMixin, viewsets.GenericViewSet):
    throttle_classes = [ScopedRateThrottle]

    @property
    def throttle_scope(self) -> str:
        # Refreshes are routine for a signed-in client: they get their own, larger budget.
        return "login" if self.action == "login" else "token"

    def get_serializer_class(self):
        return LoginInput if self.action == "login" else RefreshInput

    @extend_schema(
        request=LoginInput, responses={200: LoginOutput, 400: ValidationErrors, 401: Detail, 403: EmailNotVerifiedOutput, 429: Detail}, auth=[]
    )
    @action(detail=False, methods=["post"], url_path="login")
    def login(self, request):
        data = validated(LoginInput, request.data)
        user, refresh = login_service.user_login(email=data["email"], password=data["password"], ip=client_ip(request))
        return Response(
            {"message": "Login successful", "user_id": str(user.id), "access": str(refresh.access_token), "refresh": str(refresh)}
        )

    @extend_schema(request=RefreshInput, responses={200: TokenPairOutput, 400: ValidationErrors, 401: Detail, 429: Detail}, auth=[])
    @action(detail=False, methods=["post"], url_path="auth/refresh")
    def refresh(self, request):
        data = validated(RefreshInput, request.data)
        refresh = tokens.token_refresh(raw_refresh=data["refresh"])
        return Response({"access": str(refresh.access_token), "refresh": str(refresh)})

    @extend_schema(request=RefreshInput, responses={204: None, 400: ValidationErrors, 401: Detail, 429: Detail}, auth=[])
    @action(detail=False, methods=["post"], url_path="auth/logout")
    def logout(self, request):
        data = validated(RefreshInput, request.data)
        tokens.token_revoke(raw_refresh=data["refresh"], ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegisterViewSet(PublicMixin, viewsets.GenericViewSet):
    serializer_class = RegisterInput
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(request=RegisterInput, responses={201: RegisterOutput, 400: ValidationErrors, 409: UsernameConflict, 429: Detail}, auth=[])
    @action(detail=False, methods=["post"], url_path="register")
    def register(self, request):
        data = validated(RegisterInput, request.data)
        user = email_verification.user_sign_up(**data)
        return Response({"message": "User registered successfully", "user_id": str(user.id)}, status=status.HTTP_201_CREATED)


class UserViewSet(UserRouteMixin, viewsets.GenericViewSet):
    pagination_class = EnvelopePagination
    # The user acted on comes from the body's `user_id` (IsOwnerOrAdmin checks it; see permissions.py).
    body_user_actions = ("link_id",)
    serializer_classes = {
        "link_id": LinkIdInput,
        "partial_update": UserUpdateInput,
        "password": PasswordChangeInput,
    }

    def get_serializer_class(self):
        return self.serializer_classes.get(self.action, UserOutput)

    def get_permissions(self):
        if self.action in ("list", "by_linked_id"):
            return [IsAuthenticated(), IsAdmin()]
        return [IsAuthenticated(), IsOwnerOrAdmin()]

    def _render(self, user: User) -> dict:
        return UserOutput(selectors.linked_ids_attach([user])[0], context={"request": self.request}).data

    # --- seed-compatible ------------------------------------------------------------------
    @extend_schema(request=LinkIdInput, responses={200: LinkIdOutput, 409: Detail, **ERRORS})
    @action(detail=False, methods=["post"], url_path="link_id")
    def link_id(self, request):
        data = validated(LinkIdInput, request.data)
        user = selectors.user_get(user_id=data["user_id"], caller=request.user)
        link = linked_ids.linked_id_add(user=user, linked_id=data["linked_id"])
        return Response({"message": "ID linked successfully", "linked_id": link.linked_id})

    @extend_schema(
        parameters=[OpenApiParameter("reason", str, required=False, description="Kept in the deletion record.")],
        responses={200: MessageOutput, **ERRORS},
    )
    @action(detail=False, methods=["delete"], url_path=rf"delete_user/(?P<user_id>{USER_ID})")
    def delete_user(self, request, user_id: str):
        user = self.get_object()
        reason = request.query_params.get("reason", "")[:500] or "delete_user"
        user_data.user_delete(user=user, actor=request.user, reason=reason)
        return Response({"message": "User and associated data deleted successfully"})

    # --- the account ----------------------------------------------------------------------
    @extend_schema(responses={200: UserOutput, **ERRORS})
    def retrieve(self, request, user_id: str):
        return Response(self._render(self.get_object()))

    @extend_schema(request=UserUpdateInput, responses={200: UserOutput, 409: Detail, **ERRORS})
    def partial_update(self, request, user_id: str):
        data = validated(UserUpdateInput, request.data)
        user = self.get_object()
        user = account.user_update(user=user, actor=request.user, ip=client_ip(request), **data)
        return Response(self._render(user))

    @extend_schema(parameters=[OpenApiParameter("reason", str, required=True)], responses={204: None, **ERRORS})
    def trash(self, request, user_id: str):
        """Soft delete: the account goes to the trash (restore or purge it under /trash)."""
        reason = validated(ReasonQuery, request.query_params)["reason"]
        user = self.get_object()
        trash_service.user_trash(user=user, actor=request.user, reason=reason, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    destroy = trash  # DRF's name for the handler of DELETE on the detail route

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 401: Detail, 403: Detail, 404: Detail})
    @action(detail=True, methods=["get"], url_path="export")
    def export(self, request, user_id: str):
        return Response(user_data.user_export(user=self.get_object()))

    @extend_schema(request=PasswordChangeInput, responses={204: None, **ERRORS})
    @action(detail=True, methods=["post"], url_path="password")
    def password(self, request, user_id: str):
        data = validated(PasswordChangeInput, request.data)
        if str(request.user.id) != user_id:
            # Only the owner: an admin who could set passwords could become anybody.
            self.permission_denied(request, message="Only the account's owner may change its password.")
        passwords.user_password_change(user=request.user, ip=client_ip(request), **data)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={204: None, **ERRORS})
    @action(detail=True, methods=["delete"], url_path=rf"linked_ids/(?P<linked_id>{LINKED_ID})")
    def unlink(self, request, user_id: str, linked_id: str):
        linked_ids.linked_id_remove(user=self.get_object(), linked_id=linked_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- admin ----------------------------------------------------------------------------
    @extend_schema(
        parameters=[OpenApiParameter("q", str, required=False, description="Part of a username or email, any case.")],
        responses={200: UserOutput(many=True), 400: ValidationErrors, 401: Detail, 403: Detail},
    )
    def list(self, request):
        q = validated(UserQuery, request.query_params).get("q", "")
        page = self.paginate_queryset(selectors.users_query(q=q))
        users = selectors.linked_ids_attach(page)
        return self.get_paginated_response(UserOutput(users, many=True, context={"request": request}).data)

    @extend_schema(responses={200: UserOutput, 401: Detail, 403: Detail, 404: Detail})
    @action(detail=False, methods=["get"], url_path=rf"by_linked_id/(?P<linked_id>{LINKED_ID})")
    def by_linked_id(self, request, linked_id: str):
        user = selectors.user_by_linked_id(linked_id=linked_id)
        return Response(UserOutput(user, context={"request": request}).data)


class TrashViewSet(UserRouteMixin, viewsets.GenericViewSet):
    """Admins only: the trashed accounts, their restore and their permanent deletion."""

    permission_classes = [IsAuthenticated, IsAdmin]
    pagination_class = EnvelopePagination

    def get_serializer_class(self):
        return BulkTrashInput if self.action == "bulk_trash" else TrashEntryOutput

    @extend_schema(responses={200: TrashEntryOutput(many=True), 400: ValidationErrors, 401: Detail, 403: Detail})
    def list(self, request):
        page = self.paginate_queryset(selectors.trash_query())
        return self.get_paginated_response(TrashEntryOutput(selectors.trash_rows(page), many=True).data)

    @extend_schema(request=BulkTrashInput, responses={200: BulkTrashOutput, 400: ValidationErrors, 401: Detail, 403: Detail})
    @action(detail=False, methods=["post"], url_path="bulk_delete", url_name="bulk-delete")
    def bulk_trash(self, request):
        """Move up to 1000 accounts to the trash at once."""
        data = validated(BulkTrashInput, request.data)
        return Response(trash_service.users_trash_bulk(ids=data["ids"], actor=request.user, reason=data["reason"]))

    @extend_schema(request=None, responses={200: UserOutput, 401: Detail, 403: Detail, 404: Detail})
    @action(detail=True, methods=["post"], url_path="restore")
    def restore(self, request, user_id: str):
        user = trash_service.user_restore(user=self.get_object(), actor=request.user, ip=client_ip(request))
        return Response(UserOutput(selectors.linked_ids_attach([user])[0], context={"request": request}).data)

    @extend_schema(responses={204: None, 401: Detail, 403: Detail, 404: Detail})
    def purge(self, request, user_id: str):
        """Purge: the permanent chain delete of a trashed account."""
        trash_service.user_purge(user=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    destroy = purge  # DRF's name for the handler of DELETE on the detail route
