"""GET /: where to go from here, for a person in a browser and for a program alike."""
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.sessions.authentication import MongoJWTAuthentication

WHERE_TO_GO = """
Accounts, JSON Web Tokens, linked ids, details, avatars and the chain delete.

* Read the API: [Swagger UI](/api/docs/) (try every call), [ReDoc](/api/redoc/), the [OpenAPI schema](/api/schema/).
* Use it from this browser: [register](/users/register), [log in](/api-auth/login/), then
  [yourself](/users/me); every path of the API opens as a page like this one, with its forms.
* Programs log in with `POST /login` and send `Authorization: Bearer <access>`.
"""

LINKS = {
    "docs": "/api/docs/",
    "redoc": "/api/redoc/",
    "schema": "/api/schema/",
    "register": "/users/register",
    "login": "/login",
    "browser_login": "/api-auth/login/",
    "me": "/users/me",
    "health": "/health",
}


@extend_schema(exclude=True)  # a signpost, not an operation of the API
class Root(APIView):
    authentication_classes = [MongoJWTAuthentication]
    permission_classes = [AllowAny]
    # The page's title and text in the browsable API (common/browsable.py).
    api_words = {"*": ("User service", WHERE_TO_GO.strip())}

    def get(self, request):
        return Response({"service": "User service", **{key: request.build_absolute_uri(path) for key, path in LINKS.items()}})
