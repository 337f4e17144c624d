"""Profiles endpoints.

| path                                      | viewset action                 |
|-------------------------------------------|--------------------------------|
| POST /users/add_details                   | ProfileViewSet.add_details     |
| GET /users/user_with_details/{user_id}    | ProfileViewSet.user_with_details |
| GET /users/me                             | ProfileViewSet.me              |
| PUT, GET, DELETE /users/{user_id}/avatar  | ProfileViewSet.avatar          |
"""
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags, quote_etag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.users import selectors as account_selectors
from accounts.users.documents import User
from accounts.users.permissions import IsOwnerOrAdmin
from common.openapi import ERRORS, Detail, MessageOutput, ValidationErrors
from common.routes import USER_ID, UserRouteMixin
from common.validation import validated
from profiles import selectors, services
from profiles.documents import avatar_path
from profiles.serializers import AddDetailsInput, AvatarInput, AvatarOutput, UserWithDetailsOutput

# The image may change at the same URL: caches keep it but ask again (a 304 when unchanged).
AVATAR_CACHE_CONTROL = "private, no-cache"
AVATAR_HEADERS = [
    OpenApiParameter("ETag", str, OpenApiParameter.HEADER, response=[200, 304], description="The stored image's version."),
    OpenApiParameter("Cache-Control", str, OpenApiParameter.HEADER, response=[200, 304], description=AVATAR_CACHE_CONTROL),
]


def _etag_listed(header: str | None, etag: str) -> bool:
    """If-None-Match's weak comparison (RFC 9110 13.1.2): `*`, or the tag with or without W/."""
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or etag in (tag.removeprefix("W/") for tag in tags)


def _avatar_media_type(request, stored: str) -> str:
    """The image's own type, unless the client accepts `application/octet-stream` and not that
    type (nor image/*, nor */*): then the same bytes as application/octet-stream."""
    django_request = request._request
    if django_request.headers.get("Accept") and not django_request.accepts(stored) and django_request.accepts(OCTET_STREAM):
        return OCTET_STREAM
    return stored


OCTET_STREAM = "application/octet-stream"


# Built once and shared: DRF deep-copies a serializer's declared fields each time one is created,
# and rendering (to_representation) keeps no state on the serializer.
JOINED_OUTPUT = UserWithDetailsOutput()


class ProfileViewSet(UserRouteMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, IsOwnerOrAdmin]
    # Where the user acted on comes from when the URL does not name one (see accounts/users/permissions.py).
    body_user_actions = ("add_details",)
    caller_actions = ("me",)

    def get_serializer_class(self):
        return {"add_details": AddDetailsInput, "avatar": AvatarInput}.get(self.action, UserWithDetailsOutput)

    def perform_content_negotiation(self, request, force=False):
        # An <img> or a client that accepts only image/* gets the bytes (a plain HttpResponse,
        # past DRF's renderers) and, when something fails, a JSON error rather than a 406.
        return super().perform_content_negotiation(request, force=force or self.action == "avatar")

    @extend_schema(request=AddDetailsInput, responses={200: MessageOutput, **ERRORS})
    @action(detail=False, methods=["post"], url_path="add_details")
    def add_details(self, request):
        data = validated(AddDetailsInput, request.data)
        user_id = data.pop("user_id")
        user = account_selectors.user_get(user_id=user_id, caller=request.user)
        services.details_upsert(user=user, **data)
        return Response({"message": "Details added/updated successfully"})

    @extend_schema(responses={200: UserWithDetailsOutput, 401: Detail, 403: Detail, 404: Detail})
    @action(detail=False, methods=["get"], url_path=rf"user_with_details/(?P<user_id>{USER_ID})")
    def user_with_details(self, request, user_id: str):
        joined = selectors.user_with_details(user_id=user_id, caller=request.user)
        return Response(JOINED_OUTPUT.to_representation(joined))

    @extend_schema(responses={200: UserWithDetailsOutput, 401: Detail})
    @action(detail=False, methods=["get"], url_path="me")
    def me(self, request):
        joined = selectors.user_with_details(user_id=str(request.user.id), caller=request.user)
        return Response(JOINED_OUTPUT.to_representation(joined))

    @extend_schema(
        methods=["PUT"],
        request={"multipart/form-data": AvatarInput},
        responses={
            200: AvatarOutput,
            400: ValidationErrors,
            401: Detail,
            403: Detail,
            404: Detail,
            413: Detail,
            415: Detail,
            503: Detail,
        },
    )
    @extend_schema(
        methods=["GET"],
        parameters=[
            OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER, description="An ETag from an earlier answer."),
            *AVATAR_HEADERS,
        ],
        responses={
            # The image's own type; `application/octet-stream` when the client accepts only that
            # (what generated clients handle as a file: openapi-python-client drops image/* bodies).
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            304: OpenApiResponse(),
            401: Detail,
            403: Detail,
            404: Detail,
        },
    )
    @extend_schema(
        methods=["DELETE"],
        responses={204: None, 401: Detail, 403: Detail, 404: Detail},
    )
    @action(detail=True, methods=["put", "get", "delete"], url_path="avatar", parser_classes=[MultiPartParser])
    def avatar(self, request, user_id: str):
        user = self.get_object()
        if request.method == "PUT":
            return self._avatar_put(request, user)
        if request.method == "DELETE":
            services.avatar_remove(user=user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        return self._avatar_file(request, user)

    def _avatar_put(self, request, user: User) -> Response:
        try:
            content_length = int(request.META.get("CONTENT_LENGTH") or "")
        except ValueError:
            content_length = None
        services.avatar_request_size_check(content_length=content_length)
        data = validated(AvatarInput, request.data)
        services.avatar_replace(user=user, upload=data["file"])
        url = request.build_absolute_uri(avatar_path(user.id))
        return Response({"message": "Image uploaded successfully", "avatar_url": url})

    def _avatar_file(self, request, user: User) -> HttpResponse:
        avatar = selectors.avatar_get(user=user)
        if request.accepted_renderer.format == "api":
            # A person opening this URL in a browser gets the browsable API's page (its upload form
            # and DELETE button); an <img> tag or an API client gets the bytes below.
            return Response({"avatar_url": request.build_absolute_uri(), "content_type": avatar.content_type, "etag": avatar.etag})
        if _etag_listed(request.headers.get("If-None-Match"), quote_etag(avatar.etag)):
            response = HttpResponseNotModified()
        else:
            avatar, content = selectors.avatar_content(user=user, avatar=avatar)
            response = HttpResponse(content, content_type=_avatar_media_type(request, avatar.content_type))
        response["ETag"] = quote_etag(avatar.etag)
        response["Cache-Control"] = AVATAR_CACHE_CONTROL
        patch_vary_headers(response, ["Authorization"])
        return response
