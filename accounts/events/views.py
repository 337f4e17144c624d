"""Webhook endpoints and erasure receipts, for admins (README, "Integrating other services").

| path | action | rule |
|---|---|---|
| `POST /webhooks`, `GET /webhooks` | WebhookViewSet.create/list | `webhooks.webhook_create`, `selectors.webhooks_list` |
| `GET, PATCH, DELETE /webhooks/{webhook_id}` | WebhookViewSet.retrieve/partial_update/destroy | `webhooks.webhook_update`/`webhook_delete` |
| `GET /webhooks/{webhook_id}/deliveries` | WebhookViewSet.deliveries | `selectors.deliveries_list` |
| `GET /deletions/{user_id}` | DeletionViewSet.retrieve | `selectors.deletion_get` |
"""
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.events import selectors, webhooks
from accounts.events.serializers import (
    DeletionOutput,
    DeliveryOutput,
    WebhookCreatedOutput,
    WebhookInput,
    WebhookOutput,
    WebhookPatchInput,
)
from accounts.users.permissions import IsAdmin
from common.openapi import Detail, ValidationErrors
from common.routes import USER_ID
from common.validation import validated

AUTH_ERRORS = {401: Detail, 403: Detail}


class AdminOnlyMixin:
    permission_classes = [IsAuthenticated, IsAdmin]

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'


class WebhookViewSet(AdminOnlyMixin, viewsets.GenericViewSet):
    """Admins only: the endpoints that receive our events, and each one's delivery log."""

    lookup_url_kwarg = "webhook_id"
    lookup_value_regex = "[0-9a-fA-F]{24}"

    def get_serializer_class(self):
        return {"create": WebhookInput, "partial_update": WebhookPatchInput}.get(self.action, WebhookOutput)

    def get_object(self):
        return selectors.webhook_get(webhook_id=self.kwargs["webhook_id"])

    @extend_schema(request=WebhookInput, responses={201: WebhookCreatedOutput, 400: ValidationErrors, **AUTH_ERRORS})
    def create(self, request):
        data = validated(WebhookInput, request.data)
        endpoint, secret = webhooks.webhook_create(url=data["url"], events=data["events"], description=data["description"])
        return Response({**selectors.webhook_row(endpoint), "secret": secret}, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: WebhookOutput(many=True), **AUTH_ERRORS})
    def list(self, request):
        return Response(WebhookOutput(selectors.webhooks_list(), many=True).data)

    @extend_schema(responses={200: WebhookOutput, 404: Detail, **AUTH_ERRORS})
    def retrieve(self, request, webhook_id: str):
        return Response(WebhookOutput(selectors.webhook_row(self.get_object())).data)

    @extend_schema(request=WebhookPatchInput, responses={200: WebhookOutput, 400: ValidationErrors, 404: Detail, **AUTH_ERRORS})
    def partial_update(self, request, webhook_id: str):
        endpoint = self.get_object()
        changes = validated(WebhookPatchInput, request.data)
        return Response(WebhookOutput(selectors.webhook_row(webhooks.webhook_update(endpoint=endpoint, changes=changes))).data)

    @extend_schema(responses={204: None, 404: Detail, **AUTH_ERRORS})
    def destroy(self, request, webhook_id: str):
        webhooks.webhook_delete(endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: DeliveryOutput(many=True), 404: Detail, **AUTH_ERRORS})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, webhook_id: str):
        return Response(DeliveryOutput(selectors.deliveries_list(endpoint=self.get_object()), many=True).data)


class DeletionViewSet(AdminOnlyMixin, viewsets.GenericViewSet):
    """Admins only: what remains of a chain-deleted user, with the erasure receipts."""

    lookup_url_kwarg = "user_id"
    lookup_value_regex = USER_ID
    serializer_class = DeletionOutput

    @extend_schema(responses={200: DeletionOutput, 404: Detail, **AUTH_ERRORS})
    def retrieve(self, request, user_id: str):
        return Response(DeletionOutput(selectors.deletion_get(user_id=user_id)).data)
