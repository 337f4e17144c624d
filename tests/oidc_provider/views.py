"""The test provider's login form and its test-only endpoints.

The login form is what a person sees at a provider: the tests' HTTP client posts it, headless
Chromium fills it in. CSRF protection is left out: this provider only ever listens on loopback
for the tests."""
import json
from html import escape

from django.contrib.auth import authenticate, login
from django.contrib.auth.models import User
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import get_application_model

from tests.oidc_provider.models import Person
from tests.oidc_provider.validator import MISBEHAVIOUR, MODES

LOGIN_PAGE = """<!doctype html><html><head><title>Test provider: sign in</title></head><body>
<h1>Test provider</h1>{error}
<form method="post" action="/login/">
<input type="hidden" name="next" value="{next}">
<label>Username <input name="username" id="username" autocomplete="username"></label>
<label>Password <input name="password" id="password" type="password"></label>
<button type="submit" id="sign-in">Sign in</button>
</form></body></html>"""


@csrf_exempt
def login_view(request):
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    if request.method == "POST":
        user = authenticate(request, username=request.POST.get("username", ""), password=request.POST.get("password", ""))
        if user is not None:
            login(request, user)
            return HttpResponseRedirect(target)
        return HttpResponse(LOGIN_PAGE.format(error="<p id='error'>Wrong username or password.</p>", next=escape(target)), status=200)
    return HttpResponse(LOGIN_PAGE.format(error="", next=escape(target)))


def _body(request) -> dict:
    try:
        return json.loads(request.body or b"{}")
    except ValueError:
        return {}


@csrf_exempt
def users_view(request):
    """POST {username, password, email, email_verified?, name?}: create or replace a person."""
    data = _body(request)
    if request.method != "POST" or not data.get("username") or not data.get("password"):
        return HttpResponseBadRequest("username and password")
    user, _ = User.objects.get_or_create(username=data["username"])
    user.email = data.get("email", "")
    user.set_password(data["password"])
    user.save()
    Person.objects.update_or_create(user=user, defaults={"email_verified": bool(data.get("email_verified", True)), "name": data.get("name", "")})
    return JsonResponse({"sub": str(user.pk)}, status=201)


@csrf_exempt
def clients_view(request):
    """POST {client_id, client_secret, redirect_uris: [...]}: register (or update) a client."""
    data = _body(request)
    if request.method != "POST" or not data.get("client_id") or not data.get("client_secret"):
        return HttpResponseBadRequest("client_id and client_secret")
    application_model = get_application_model()
    application_model.objects.filter(client_id=data["client_id"]).delete()
    application_model.objects.create(
        client_id=data["client_id"],
        client_secret=data["client_secret"],
        name=data["client_id"],
        client_type=application_model.CLIENT_CONFIDENTIAL,
        authorization_grant_type=application_model.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(data.get("redirect_uris", [])),
        algorithm=application_model.RS256_ALGORITHM,
        skip_authorization=True,
    )
    return JsonResponse({"client_id": data["client_id"]}, status=201)


@csrf_exempt
def misbehave_view(request):
    """POST {mode}: how the next id tokens are wrong ("" for right); see validator.py."""
    mode = _body(request).get("mode", "")
    if request.method != "POST" or mode not in MODES:
        return HttpResponseBadRequest(f"mode is one of {MODES}")
    MISBEHAVIOUR["mode"] = mode
    return JsonResponse({"mode": mode})
