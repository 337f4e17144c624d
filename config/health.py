from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from common.openapi import documented
from config import mongo

HealthOutput = inline_serializer("Health", {"status": serializers.CharField(), "database": serializers.CharField()})


@documented(
    "health",
    "Is the service up?",
    "Anyone, no token. For load balancers and container health checks: the service answers and "
    "its database answers a ping.",
    tag="operations",
    statuses={200: '`{"status": "ok", "database": "ok"}`', 503: '`{"status": "error", ...}`: the database cannot be reached.'},
)
@extend_schema(responses={200: HealthOutput, 503: HealthOutput}, auth=[])
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def health(request):
    """200 when the database answers a ping, 503 when it cannot be reached."""
    if mongo.ping():
        return Response({"status": "ok", "database": "ok"})
    return Response({"status": "error", "database": "unreachable"}, status=503)
