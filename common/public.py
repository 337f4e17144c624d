"""Endpoints anyone may call: register, login, refresh, logout, the second step of a login, the
email links."""
from rest_framework.permissions import AllowAny

from accounts.sessions.authentication import MongoJWTAuthentication


class PublicMixin:
    """Authenticates nobody and lets anyone in. Yet a token such an endpoint refuses (a bad
    refresh or mfa token) is a 401 with the same `WWW-Authenticate` challenge as every other
    endpoint's: DRF would answer 403 for a view without authenticators. Every other view gets the
    challenge from its first authenticator, MongoJWTAuthentication, as this one does."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request):
        return MongoJWTAuthentication().authenticate_header(request)
