"""The browser login and logout pages (see the package docstring)."""
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import rotate_token
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from rest_framework import exceptions

from accounts.authentication import ACCESS_COOKIE, CookieJWTAuthentication
from accounts.browser.forms import LoginForm
from accounts.services import login as login_service
from accounts.services.audit import audit_record
from accounts.throttles import LoginPageThrottle
from common.client_ip import client_ip
from common.exceptions import DATABASE_UNREACHABLE, ServiceUnavailable

# Where the login page sends a person who came to it directly.
DEFAULT_NEXT = "/users/me"


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
        except DATABASE_UNREACHABLE:
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
    found = CookieJWTAuthentication().cookie_user(request)
    if found is not None:
        user, _ = found
        audit_record(action="logout", actor=user, target=user, ip=client_ip(request), via="browser")
    response = HttpResponseRedirect(_next_url(request))
    response.delete_cookie(ACCESS_COOKIE, path="/", samesite="Lax")
    rotate_token(request)
    return response
