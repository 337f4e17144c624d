"""The browser login and logout pages (see the package docstring)."""
from bson import ObjectId
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import rotate_token
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods
from rest_framework import exceptions

from accounts.sessions.authentication import ACCESS_COOKIE, CookieJWTAuthentication
from accounts.sessions.cookie import access_cookie_set
from accounts.browser.forms import LoginForm
from accounts.mfa.codes import totp_code_parse
from accounts.users import login as login_service
from accounts.users.audit import audit_record
from accounts.users.throttles import LoginPageThrottle
from accounts.sessions.selectors import SESSION_CLAIM
from accounts.sessions.tokens import LoginOutcome
from accounts.mfa import two_factor
from accounts.sessions.services import user_sessions_end
from common.client_ip import client_ip, user_agent
from common.exceptions import database_unavailable

# Where the login page sends a person who came to it directly.
DEFAULT_NEXT = "/users/me"


def _next_url(request: HttpRequest, candidate: str | None = None) -> str:
    """`candidate`, or the `next` of the form or query, if it is a path on this site, else DEFAULT_NEXT."""
    candidate = candidate if isinstance(candidate, str) else request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return candidate
    return DEFAULT_NEXT


@sensitive_variables("given", "code", "factor", "outcome")
def _second_factor(request: HttpRequest, form: LoginForm, outcome: LoginOutcome) -> LoginOutcome:
    """A user with two-factor on gives the code in the same form: the login's mfa_token is
    spent here at once, with the same rules as POST /auth/mfa."""
    given = "".join(form.cleaned_data.get("code", "").split())
    if not given:
        raise exceptions.AuthenticationFailed("Two-factor code required.")
    code = totp_code_parse(given)  # the one reading of a code (six ASCII digits), as the API's
    factor = {"code": code} if code is not None else {"recovery_code": given}
    try:
        return two_factor.mfa_login(raw_token=outcome.mfa_token, ip=client_ip(request), user_agent=user_agent(request), **factor)
    except exceptions.ValidationError:
        raise exceptions.AuthenticationFailed(two_factor.INVALID_CODE) from None


def session_cookie_set(request: HttpRequest, response: HttpResponse, refresh) -> HttpResponse:
    """Sign the browser in: the session's access token in the HttpOnly, SameSite=Lax cookie, and
    a new CSRF token for the new identity (as django.contrib.auth.login does). The password form
    and the passkey sign-in (accounts/mfa/passkeys/browser.py) both end here."""
    access_cookie_set(response, str(refresh.access_token))
    rotate_token(request)
    return response


@sensitive_post_parameters("password", "code")
@sensitive_variables("form", "outcome", "refresh", "response")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_page(request: HttpRequest) -> HttpResponse:
    """GET: the form. POST: check email and password, set the token cookie, go to `next`."""
    next_url = _next_url(request)
    status = 200
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        LoginPageThrottle().allow_request(request, None)  # leaves its hit for the login to count
        try:
            outcome = login_service.user_login(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                ip=client_ip(request),
                user_agent=user_agent(request),
                rate=getattr(request, "rate_hit", None),
            )
            if outcome.mfa_token is not None:
                outcome = _second_factor(request, form, outcome)
            refresh = outcome.refresh
        except exceptions.APIException as exc:  # 401 invalid email or password, 429 throttled
            form.add_error(None, str(exc.detail))
            status = exc.status_code
        except Exception as exc:  # noqa: BLE001 - only database failures are answered here
            # The same answer as the API's (config/exceptions.py): 503, never a 500.
            unavailable = database_unavailable(exc)
            if unavailable is None:
                raise
            form.add_error(None, str(unavailable.detail))
            status = unavailable.status_code
        else:
            return session_cookie_set(request, HttpResponseRedirect(next_url), refresh)
    elif request.method == "POST":
        status = 400
    return render(request, "accounts/browser_login.html", {"form": form, "next": next_url}, status=status)


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def logout_page(request: HttpRequest) -> HttpResponse:
    """GET: a button (logging out by a link would let any page log a person out). POST: end the
    cookie token's session (so the token is refused from now on), forget the cookie, go to `next`."""
    if request.method == "GET":
        return render(request, "accounts/browser_logout.html", {"next": _next_url(request)})
    found = CookieJWTAuthentication().cookie_user(request)
    if found is not None:
        user, token = found
        user_sessions_end(user_id=user.id, session_ids=[ObjectId(token[SESSION_CLAIM])])
        audit_record(action="logout", actor=user, target=user, ip=client_ip(request), via="browser")
    response = HttpResponseRedirect(_next_url(request))
    response.delete_cookie(ACCESS_COOKIE, path="/", samesite="Lax")
    rotate_token(request)
    return response
