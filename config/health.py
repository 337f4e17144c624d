"""Liveness (`GET /health`) and readiness (`GET /ready`): two questions for two callers.

- `/health` (liveness): is this process up and does its database answer a ping? A container
  runtime restarts a process that fails it, so it asks nothing that a restart cannot fix.
- `/ready` (readiness): can this process serve requests that write, right now? It performs one
  small *durable* write (an upsert into `readiness`, with the service's write concern: the
  journal, and a majority on a replica set; config/mongo.py). A ping is answered by a server
  whose disk is full or whose storage engine stopped, where every write fails; this write is
  not. A load balancer sends no traffic to a process that is not ready, and sends it again when
  the write succeeds (space freed, the database restarted): no restart of the service needed.
Both answer 200 or 503 and never take longer than the database's bounded waits (settings
`MONGODB_*_TIMEOUT_MS`). One round trip each.
"""
import logging
import os
import socket

import mongoengine
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from datetime import datetime, timezone
from common.exceptions import database_unavailable
from common.openapi import documented
from config import mongo

logger = logging.getLogger(__name__)

HealthOutput = inline_serializer("Health", {"status": serializers.CharField(), "database": serializers.CharField()})
# The collection the readiness write goes to: one small document per host, overwritten.
READINESS_COLLECTION = "readiness"


@documented(
    "health",
    "Is the service up?",
    "Anyone, no token. Liveness, for container health checks: the service answers and its "
    "database answers a ping. It does not say whether the database can store data: ask `/ready`.",
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


def readiness_write() -> str:
    """One durable write; returns "ok", "unreachable" or "storage failure" (never raises for a
    database failure: a bug still does)."""
    try:
        mongoengine.get_db()[READINESS_COLLECTION].update_one(
            {"_id": socket.gethostname()}, {"$set": {"at": datetime.now(timezone.utc), "pid": os.getpid()}, "$inc": {"writes": 1}}, upsert=True
        )
    except Exception as exc:
        unavailable = database_unavailable(exc)
        if unavailable is None:
            raise
        logger.warning("readiness write failed: %s: %s", type(exc).__name__, exc)
        return "storage failure" if unavailable.default_code == "storage_unavailable" else "unreachable"
    return "ok"


@documented(
    "ready",
    "Can the service take requests?",
    "Anyone, no token. Readiness, for load balancers: the service writes one small document to "
    "its database and waits until the database has it on disk (the journal). 503 while the "
    "database cannot be reached or cannot store data (a full disk, a stopped storage engine); "
    "200 again as soon as it can, with no restart of the service.",
    tag="operations",
    statuses={
        200: '`{"status": "ok", "database": "ok"}`',
        503: '`{"status": "error", "database": "unreachable"}` or `{"status": "error", "database": "storage failure"}`.',
    },
)
@extend_schema(responses={200: HealthOutput, 503: HealthOutput}, auth=[])
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def ready(request):
    """200 when a durable write succeeds, 503 (with what failed) when it does not."""
    state = readiness_write()
    if state == "ok":
        return Response({"status": "ok", "database": "ok"})
    return Response({"status": "error", "database": state}, status=503, headers={"Retry-After": "5"})
