"""Passkeys in the browser pages of the browsable API (views.py beside this has the password login;
accounts/mfa/passkeys the passkeys themselves; its static/passkeys/passkeys.js the page script).

- The login page's "Sign in with a passkey" button (static/passkeys/passkeys.js) asks
  POST /auth/passkey/options, lets the browser pick a passkey, and posts the answer here, to
  `passkey_sign_in`: the same `passkey_login` (accounts/users/login.py) as POST /auth/passkey, then the same cookie as
  the password form (accounts.browser.views.session_cookie_set). JSON in and out, CSRF-checked.
- /api-auth/passkeys/ lists the signed-in person's passkeys and adds one: the password again,
  then the browser's authenticator, through the API itself (the cookie authenticates it and
  the page sends its CSRF token).
"""
import json

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from django.views.decorators.http import require_http_methods
from rest_framework import exceptions

from accounts.sessions.authentication import CookieJWTAuthentication
from accounts.browser.views import _next_url, session_cookie_set
from accounts.mfa.passkeys import selectors
from accounts.users.login import passkey_login
from accounts.mfa.passkeys.serializers import PasskeyLoginInput, credential_json
from accounts.users.throttles import LoginPageThrottle
from common.client_ip import client_ip, user_agent
from common.exceptions import DATABASE_UNREACHABLE, ServiceUnavailable


def _error(detail, status: int) -> JsonResponse:
    return JsonResponse(detail if isinstance(detail, dict) else {"detail": str(detail)}, status=status)


@csrf_protect
@never_cache
@require_http_methods(["POST"])
def passkey_sign_in(request: HttpRequest) -> HttpResponse:
    """POST `{ceremony, credential, next?}`: sign in with a passkey's answer; sets the cookie
    and answers `{"next"}`, where the page goes. Errors as the API's (400, 403, 429, 503)."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return _error("The body is not JSON.", 400)
    if not isinstance(body, dict):
        return _error("The body is not a JSON object.", 400)
    serializer = PasskeyLoginInput(data=body)
    if not serializer.is_valid():
        return _error(serializer.errors, 400)
    throttle = LoginPageThrottle()
    try:
        if not throttle.allow_request(request, None):
            raise exceptions.Throttled(wait=throttle.wait())
        outcome = passkey_login(
            ceremony=serializer.validated_data["ceremony"],
            credential=credential_json(serializer.validated_data["credential"]),
            ip=client_ip(request),
            user_agent=user_agent(request),
        )
    except exceptions.APIException as exc:
        return _error(exc.detail, exc.status_code)
    except DATABASE_UNREACHABLE:
        return _error(ServiceUnavailable.default_detail, ServiceUnavailable.status_code)
    next_url = _next_url(request, body.get("next") if isinstance(body.get("next"), str) else "")
    return session_cookie_set(request, JsonResponse({"next": next_url}), outcome.refresh)


@ensure_csrf_cookie
@never_cache
@require_http_methods(["GET"])
def passkeys_page(request: HttpRequest) -> HttpResponse:
    """The signed-in person's passkeys, and a form to add one (a person who is not signed in is
    sent to the login page first)."""
    found = CookieJWTAuthentication().cookie_user(request)
    if found is None:
        return HttpResponseRedirect(f"{reverse('rest_framework:login')}?{urlencode({'next': request.path})}")
    user, _ = found
    context = {"person": user, "passkeys": selectors.passkeys_list(user=user), "passkeys_url": f"/users/{user.id}/passkeys"}
    return render(request, "passkeys/browser_passkeys.html", context)
