"""Sessions endpoints (accounts/sessions/services.py holds the rules).

| path                                            | viewset action          |
|-------------------------------------------------|-------------------------|
| GET, DELETE /users/{user_id}/sessions           | SessionViewSet.sessions |
| DELETE /users/{user_id}/sessions/{session_id}   | SessionViewSet.end      |
"""
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.sessions import services as sessions
from accounts.sessions.selectors import SESSION_CLAIM
from accounts.users.permissions import IsOwnerOrAdmin
from accounts.sessions.serializers import SESSION_ID, SessionOutput
from common.client_ip import client_ip
from common.openapi import ERRORS, Detail
from common.routes import UserRouteMixin


def _caller_session(request) -> str | None:
    token = request.auth
    return token.get(SESSION_CLAIM) if token is not None else None


class SessionViewSet(UserRouteMixin, viewsets.GenericViewSet):
    """Where a user is logged in: each login is a session; ending one refuses its tokens at once."""

    permission_classes = [IsAuthenticated, IsOwnerOrAdmin]
    serializer_class = SessionOutput

    def get_queryset(self):
        # The browsable API asks a view that answers a list for its queryset (to offer filters);
        # the sessions themselves come from the service. Not `Session.objects`: that opens the
        # database connection, and the schema generator (`manage.py spectacular`) calls this too.
        return []

    @extend_schema(methods=["GET"], responses={200: SessionOutput(many=True), 401: Detail, 403: Detail, 404: Detail})
    @extend_schema(methods=["DELETE"], responses={204: None, 401: Detail, 403: Detail, 404: Detail})
    @action(detail=True, methods=["get", "delete"], url_path="sessions")
    def sessions(self, request, user_id: str):
        user = self.get_object()
        mine = _caller_session(request) if str(request.user.id) == str(user.id) else None
        if request.method == "DELETE":
            sessions.user_sessions_end_others(user=user, actor=request.user, keep=mine, ip=client_ip(request))
            return Response(status=status.HTTP_204_NO_CONTENT)
        rows = [
            {
                "id": str(s.id),
                "created_at": s.created_at,
                "last_used_at": s.last_used_at,
                "ip": s.ip,
                "user_agent": s.user_agent,
                "current": str(s.id) == mine,
            }
            for s in sessions.user_sessions_list(user=user)
        ]
        return Response(SessionOutput(rows, many=True).data)

    @extend_schema(request=None, responses={204: None, **ERRORS})
    @action(detail=True, methods=["delete"], url_path=rf"sessions/(?P<session_id>{SESSION_ID})")
    def end(self, request, user_id: str, session_id: str):
        user = self.get_object()
        sessions.user_session_end(user=user, session_id=session_id.lower(), actor=request.user, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
