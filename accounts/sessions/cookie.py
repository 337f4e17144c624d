"""The browser's session cookie: the access token the browsable API reads (accounts/browser), set
by every way a browser signs in (the login page, a passkey, a provider's callback)."""
from django.conf import settings
from django.http import HttpResponse

ACCESS_COOKIE = "access_token"


def access_cookie_set(response: HttpResponse, access: str) -> HttpResponse:
    """Put the access token in the HttpOnly, SameSite=Lax cookie, for the token's lifetime."""
    response.set_cookie(
        ACCESS_COOKIE,
        access,
        max_age=int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()),
        path="/",
        secure=not settings.DEBUG,
        httponly=True,
        samesite="Lax",
    )
    return response
