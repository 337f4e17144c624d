"""The trash, for admins: GET /trash, bulk trash, restore and purge."""
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.admin import selectors
from accounts.openapi import LAST_ADMIN_409
from accounts.admin.pagination import EnvelopePagination
from accounts.users.permissions import IsAdmin
from accounts.admin.serializers import BulkTrashInput, BulkTrashOutput, TrashEntryOutput
from accounts.users.serializers import UserOutput, user_rendered
from accounts.admin import trash as trash_service
from common.client_ip import client_ip
from common.openapi import Detail, ValidationErrors
from common.routes import UserRouteMixin
from common.validation import validated


class TrashViewSet(UserRouteMixin, viewsets.GenericViewSet):
    """Admins only: the trashed accounts, their restore and their permanent deletion."""

    permission_classes = [IsAuthenticated, IsAdmin]
    pagination_class = EnvelopePagination
    # A purge of a user left `deleting` by a crash finishes that delete.
    resume_actions = ("purge", "destroy")

    def get_serializer_class(self):
        return BulkTrashInput if self.action == "bulk_trash" else TrashEntryOutput

    @extend_schema(responses={200: TrashEntryOutput(many=True), 400: ValidationErrors, 401: Detail, 403: Detail})
    def list(self, request):
        page = self.paginate_queryset(selectors.trash_query())
        return self.get_paginated_response(TrashEntryOutput(selectors.trash_rows(page), many=True).data)

    @extend_schema(request=BulkTrashInput, responses={200: BulkTrashOutput, 400: ValidationErrors, 401: Detail, 403: Detail, 409: LAST_ADMIN_409})
    @action(detail=False, methods=["post"], url_path="bulk_delete", url_name="bulk-delete")
    def bulk_trash(self, request):
        """Move up to 1000 accounts to the trash at once."""
        data = validated(BulkTrashInput, request.data)
        return Response(trash_service.users_trash_bulk(ids=data["ids"], actor=request.user, reason=data["reason"]))

    @extend_schema(request=None, responses={200: UserOutput, 401: Detail, 403: Detail, 404: Detail})
    @action(detail=True, methods=["post"], url_path="restore")
    def restore(self, request, user_id: str):
        user = trash_service.user_restore(user=self.get_object(), actor=request.user, ip=client_ip(request))
        return Response(user_rendered(request, user))

    @extend_schema(responses={204: None, 401: Detail, 403: Detail, 404: Detail})
    def purge(self, request, user_id: str):
        """Purge: the permanent chain delete of a trashed account."""
        trash_service.user_purge(user=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    destroy = purge  # DRF's name for the handler of DELETE on the detail route
