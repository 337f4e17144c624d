"""The user's own account (and admins on any): /users/..., the seed-compatible link_id and
delete_user, and the admin listings."""
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.users import selectors
from accounts.openapi import LAST_ADMIN_409
from accounts.admin import listing
from accounts.admin.pagination import EnvelopePagination
from accounts.admin.serializers import LISTING_PARAMETERS, UserListingOutput
from accounts.users.throttles import IdentityChangeThrottle, ReauthThrottle
from accounts.users.permissions import IsAdmin, IsOwner, IsOwnerOrAdmin, owner_only
from accounts.users.serializers import LinkIdInput, LinkIdOutput, PasswordChangeInput, UserOutput, UserUpdateInput, user_rendered
from accounts.admin.serializers import OptionalReasonQuery, ReasonQuery, UserQuery
from accounts.user_data.serializers import UserExportOutput
from accounts.users import account, linked_ids, passwords
from accounts.user_data import services as user_data
from accounts.admin import trash as trash_service
from common.client_ip import client_ip
from common.openapi import ERRORS, Detail, MessageOutput, ValidationErrors
from common.routes import LINKED_ID, USER_ID, UserRouteMixin
from common.validation import validated


class UserViewSet(UserRouteMixin, viewsets.GenericViewSet):
    # The listing builds its own envelope (accounts/admin/listing.py); nothing else here pages.
    pagination_class = None
    # The user acted on comes from the body's `user_id` (IsOwnerOrAdmin checks it; see permissions.py).
    body_user_actions = ("link_id",)
    # An admin's delete_user on a user left `deleting` by a crash finishes that delete.
    resume_actions = ("delete_user",)
    # Only the owner: an admin who could set passwords could become anybody.
    owner_actions = {"password": "Only the account's owner may change its password."}
    serializer_classes = {
        "link_id": LinkIdInput,
        "partial_update": UserUpdateInput,
        "password": PasswordChangeInput,
    }

    def get_serializer_class(self):
        return self.serializer_classes.get(self.action, UserOutput)

    def get_throttles(self):
        if self.action == "partial_update":
            return [IdentityChangeThrottle()]
        if self.action == "password":
            return [ReauthThrottle()]
        return super().get_throttles()

    def get_permissions(self):
        if self.action in ("list", "by_linked_id"):
            return [IsAuthenticated(), IsAdmin()]
        if owner_only(self):
            return [IsAuthenticated(), IsOwner()]
        return [IsAuthenticated(), IsOwnerOrAdmin()]

    # --- seed-compatible ------------------------------------------------------------------
    @extend_schema(request=LinkIdInput, responses={200: LinkIdOutput, 409: Detail, **ERRORS})
    @action(detail=False, methods=["post"], url_path="link_id")
    def link_id(self, request):
        data = validated(LinkIdInput, request.data)
        user = selectors.user_get(user_id=data["user_id"], caller=request.user)
        link = linked_ids.linked_id_add(user=user, linked_id=data["linked_id"])
        return Response({"message": "ID linked successfully", "linked_id": link.linked_id})

    @extend_schema(
        parameters=[OptionalReasonQuery],
        responses={200: MessageOutput, 409: LAST_ADMIN_409, **ERRORS},
    )
    @action(detail=False, methods=["delete"], url_path=rf"delete_user/(?P<user_id>{USER_ID})")
    def delete_user(self, request, user_id: str):
        user = self.get_object()
        reason = validated(OptionalReasonQuery, request.query_params).get("reason") or "delete_user"
        user_data.user_delete(user=user, actor=request.user, reason=reason)
        return Response({"message": "User and associated data deleted successfully"})

    # --- the account ----------------------------------------------------------------------
    @extend_schema(responses={200: UserOutput, **ERRORS})
    def retrieve(self, request, user_id: str):
        return Response(user_rendered(request, self.get_object()))

    @extend_schema(request=UserUpdateInput, responses={200: UserOutput, 409: Detail, 429: Detail, **ERRORS})
    def partial_update(self, request, user_id: str):
        data = validated(UserUpdateInput, request.data)
        user = self.get_object()
        user = account.user_update(user=user, actor=request.user, ip=client_ip(request), **data)
        return Response(user_rendered(request, user))

    @extend_schema(parameters=[ReasonQuery], responses={204: None, 409: LAST_ADMIN_409, **ERRORS})
    def trash(self, request, user_id: str):
        """Soft delete: the account goes to the trash (restore or purge it under /trash)."""
        reason = validated(ReasonQuery, request.query_params)["reason"]
        user = self.get_object()
        trash_service.user_trash(user=user, actor=request.user, reason=reason, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    destroy = trash  # DRF's name for the handler of DELETE on the detail route

    @extend_schema(responses={200: UserExportOutput, 401: Detail, 403: Detail, 404: Detail})
    @action(detail=True, methods=["get"], url_path="export")
    def export(self, request, user_id: str):
        return Response(user_data.user_export(user=self.get_object()))

    @extend_schema(request=PasswordChangeInput, responses={204: None, 429: Detail, **ERRORS})
    @action(detail=True, methods=["post"], url_path="password")
    def password(self, request, user_id: str):
        data = validated(PasswordChangeInput, request.data)
        passwords.user_password_change(user=request.user, ip=client_ip(request), **data)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={204: None, **ERRORS})
    @action(detail=True, methods=["delete"], url_path=rf"linked_ids/(?P<linked_id>{LINKED_ID})")
    def unlink(self, request, user_id: str, linked_id: str):
        linked_ids.linked_id_remove(user=self.get_object(), linked_id=linked_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- admin ----------------------------------------------------------------------------
    @extend_schema(
        parameters=LISTING_PARAMETERS,
        responses={200: UserListingOutput, 400: ValidationErrors, 401: Detail, 403: Detail},
    )
    def list(self, request):
        params = validated(listing.ListingQuery, request.query_params)
        query = selectors.users_query(q=params.get("q", ""))
        envelope = listing.users_listing(params=params, substring_query=query)
        if envelope is None:  # numbered pages, as API.md has them
            paginator = EnvelopePagination()
            users = selectors.linked_ids_attach(paginator.paginate_queryset(query, request, self))
            return paginator.get_paginated_response(UserOutput(users, many=True, context={"request": request}).data)
        users = selectors.linked_ids_attach(envelope.pop("users"))
        return Response({**envelope, "data": UserOutput(users, many=True, context={"request": request}).data})

    @extend_schema(responses={200: UserOutput, 401: Detail, 403: Detail, 404: Detail})
    @action(detail=False, methods=["get"], url_path=rf"by_linked_id/(?P<linked_id>{LINKED_ID})")
    def by_linked_id(self, request, linked_id: str):
        user = selectors.user_by_linked_id(linked_id=linked_id)
        return Response(UserOutput(user, context={"request": request}).data)
