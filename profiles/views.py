"""Profiles endpoints.

| path                                      | viewset action                 |
|-------------------------------------------|--------------------------------|
| POST /users/add_details                   | ProfileViewSet.add_details     |
| GET /users/user_with_details/{user_id}    | ProfileViewSet.user_with_details |
| GET /users/me                             | ProfileViewSet.me              |
| GET /users/{user_id}/export               | ProfileViewSet.export          |
"""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts import selectors as account_selectors
from accounts.permissions import IsOwnerOrAdmin, check_owner_or_admin
from accounts.serializers import MessageOutput
from accounts.views import COMMON, USER_ID, Detail, _valid
from profiles import selectors, services
from profiles.serializers import AddDetailsInput, UserWithDetailsOutput


class ProfileViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, IsOwnerOrAdmin]
    lookup_url_kwarg = "user_id"
    lookup_value_regex = USER_ID

    def get_serializer_class(self):
        return AddDetailsInput if self.action == "add_details" else UserWithDetailsOutput

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'

    @extend_schema(request=AddDetailsInput, responses={200: MessageOutput, **COMMON})
    @action(detail=False, methods=["post"], url_path="add_details")
    def add_details(self, request):
        data = _valid(AddDetailsInput, request.data)
        user_id = data.pop("user_id")
        check_owner_or_admin(request.user, user_id)
        user = account_selectors.user_get(user_id=user_id, caller=request.user)
        services.details_upsert(user=user, **data)
        return Response({"message": "Details added/updated successfully"})

    @extend_schema(responses={200: UserWithDetailsOutput, 401: Detail, 403: Detail, 404: Detail})
    @action(detail=False, methods=["get"], url_path=rf"user_with_details/(?P<user_id>{USER_ID})")
    def user_with_details(self, request, user_id: str):
        joined = selectors.user_with_details(user_id=user_id, caller=request.user)
        return Response(UserWithDetailsOutput(joined).data)

    @extend_schema(responses={200: UserWithDetailsOutput, 401: Detail})
    @action(detail=False, methods=["get"], url_path="me")
    def me(self, request):
        joined = selectors.user_with_details(user_id=str(request.user.id), caller=request.user)
        return Response(UserWithDetailsOutput(joined).data)

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 401: Detail, 403: Detail, 404: Detail})
    @action(detail=True, methods=["get"], url_path="export")
    def export(self, request, user_id: str):
        user = account_selectors.user_get(user_id=user_id, caller=request.user)
        return Response(selectors.user_export(user=user))
