"""Logging in from a browser, for DRF's browsable API.

A browser cannot send `Authorization: Bearer`, so the page at /api-auth/login/ checks the
password with `accounts.services.login.user_login` (the same lock-out, throttling and audit as POST /login) and
keeps the access token in a cookie that page scripts cannot read (HttpOnly), that other sites'
forms and scripts do not carry (SameSite=Lax), and that travels over HTTPS only unless DEBUG
(Secure). No refresh token reaches the browser: the browser session ends with the access token
(ACCESS_TOKEN_MINUTES), after which the browsable API offers "Log in" again.

A browser sends a cookie whoever made the page that sends it, so `CookieJWTAuthentication`
accepts the cookie on an unsafe method only when the request also passes Django's CSRF check,
as DRF's SessionAuthentication does. It comes after the bearer class: a request that carries an
Authorization header is decided by the header alone.

The views are registered under the `rest_framework` namespace (config/urls.py), which is what
makes the browsable API show its "Log in" and "Log out" links.
"""
from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import rotate_token
from django.shortcuts import render
from django.urls import re_path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from pymongo.errors import ConnectionFailure, ServerSelectionTimeoutError
from rest_framework import exceptions
from rest_framework.authentication import CSRFCheck
from rest_framework.throttling import SimpleRateThrottle

from accounts.authentication import MongoJWTAuthentication

ACCESS_COOKIE = "access_token"
# Where the login page sends a person who came to it directly.
DEFAULT_NEXT = "/users/me"


# --- Authentication ---------------------------------------------------------------------------
class CookieJWTAuthentication(MongoJWTAuthentication):
    """The access token from the browser login's cookie, CSRF-checked on unsafe methods.

    A missing, expired or revoked cookie token authenticates nobody (the request goes on as
    anonymous, so the browsable API offers "Log in"); a valid one on an unsafe method without a
    valid CSRF token is a 403, and the cookie is never used for that request.
    """

    def authenticate(self, request):
        raw = request.COOKIES.get(ACCESS_COOKIE)
        if not raw:
            return None
        try:
            token = self.get_validated_token(raw.encode())
            user = self.get_user(token)
        except exceptions.AuthenticationFailed:  # simplejwt's InvalidToken included
            return None
        self.enforce_csrf(request)
        return user, token

    def enforce_csrf(self, request) -> None:
        """Django's CSRF check, as DRF's SessionAuthentication runs it (DRF views are csrf_exempt)."""

        def no_response(request):  # pragma: no cover - CSRFCheck never calls it
            return None

        check = CSRFCheck(no_response)
        check.process_request(request)  # reads the CSRF cookie into request.META
        reason = check.process_view(request, None, (), {})
        if reason:
            raise exceptions.PermissionDenied(f"CSRF Failed: {reason}")


class CookieJWTScheme(OpenApiAuthenticationExtension):
    """OpenAPI: the cookie set by /api-auth/login/ (for browsers; API clients use bearer)."""

    target_class = "accounts.browser.CookieJWTAuthentication"
    name = "cookieJwtAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": ACCESS_COOKIE,
            "description": "Set by the browser login at /api-auth/login/. Unsafe methods also need Django's CSRF token.",
        }


# --- The login and logout pages ---------------------------------------------------------------
class LoginForm(forms.Form):
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"class": "form-control", "autofocus": True, "autocomplete": "email"})
    )
    password = forms.CharField(
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"class": "form-control", "autocomplete": "current-password"}),
    )


class LoginPageThrottle(SimpleRateThrottle):
    """The `login` rate of POST /login, sharing its counters: the page is no way around it."""

    scope = "login"

    def get_cache_key(self, request, view):
        # The same key as ScopedRateThrottle gives an anonymous POST /login.
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def _next_url(request: HttpRequest) -> str:
    """The `next` of the form or query if it is a path on this site, else DEFAULT_NEXT."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return candidate
    return DEFAULT_NEXT


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_page(request: HttpRequest) -> HttpResponse:
    """GET: the form. POST: check email and password, set the token cookie, go to `next`."""
    # Imported here, not at the top: DRF imports this module (for CookieJWTAuthentication)
    # while rest_framework.views is still loading, and services leads back to it.
    from accounts.services import login as login_service
    from accounts.throttling import client_ip
    from common.exceptions import ServiceUnavailable

    next_url = _next_url(request)
    status = 200
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        throttle = LoginPageThrottle()
        try:
            if not throttle.allow_request(request, None):
                raise exceptions.Throttled(wait=throttle.wait())
            _, refresh = login_service.user_login(
                email=form.cleaned_data["email"], password=form.cleaned_data["password"], ip=client_ip(request)
            )
        except exceptions.APIException as exc:  # 401 invalid email or password, 429 throttled
            form.add_error(None, str(exc.detail))
            status = exc.status_code
        except (ConnectionFailure, ServerSelectionTimeoutError):
            # The same answer as the API's (config/exceptions.py): 503, never a 500.
            form.add_error(None, str(ServiceUnavailable.default_detail))
            status = ServiceUnavailable.status_code
        else:
            response = HttpResponseRedirect(next_url)
            response.set_cookie(
                ACCESS_COOKIE,
                str(refresh.access_token),
                max_age=int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()),
                path="/",
                secure=not settings.DEBUG,
                httponly=True,
                samesite="Lax",
            )
            # A new CSRF token for the new identity, as django.contrib.auth.login does.
            rotate_token(request)
            return response
    elif request.method == "POST":
        status = 400
    return render(request, "accounts/browser_login.html", {"form": form, "next": next_url}, status=status)


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def logout_page(request: HttpRequest) -> HttpResponse:
    """GET: a button (logging out by a link would let any page log a person out). POST: forget
    the cookie and go to `next`. The access token itself stays valid until it expires."""
    if request.method == "GET":
        return render(request, "accounts/browser_logout.html", {"next": _next_url(request)})
    from accounts.services.audit import audit_record
    from accounts.throttling import client_ip

    user = _cookie_user(request)
    if user is not None:
        audit_record(action="logout", actor=user, target=user, ip=client_ip(request), via="browser")
    response = HttpResponseRedirect(_next_url(request))
    response.delete_cookie(ACCESS_COOKIE, path="/", samesite="Lax")
    rotate_token(request)
    return response


def _cookie_user(request: HttpRequest):
    raw = request.COOKIES.get(ACCESS_COOKIE)
    if not raw:
        return None
    auth = MongoJWTAuthentication()
    try:
        return auth.get_user(auth.get_validated_token(raw.encode()))
    except exceptions.AuthenticationFailed:  # simplejwt's InvalidToken included
        return None


# Included at /api-auth/ by config/urls.py. DRF's templates link to `rest_framework:login` and
# `rest_framework:logout` when those names exist.
app_name = "rest_framework"
urlpatterns = [
    re_path(r"^login/?$", login_page, name="login"),
    re_path(r"^logout/?$", logout_page, name="logout"),
]
