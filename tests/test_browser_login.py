"""The browser login (accounts/browser/): the page at /api-auth/login/, its cookie, the logout,
and CookieJWTAuthentication, which honours the cookie only for requests that pass Django's CSRF
check. Django's test client skips CSRF checks unless told otherwise, so every client here
enforces them, as a browser's requests are checked."""
import json
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client, override_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import AccessToken

from accounts.sessions.authentication import ACCESS_COOKIE
from accounts.browser.views import DEFAULT_NEXT
from accounts.users.documents import AuditEvent, LinkedId, User
from accounts.users.login import INVALID_LOGIN
from accounts.sessions.tokens import token_pair_for
from tests.conftest import PASSWORD, bearer
from tests.two_factor_helpers import code_at, enrol

LOGIN = "/api-auth/login/"
LOGOUT = "/api-auth/logout/"


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def form_token(response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode()).group(1)


def log_in(browser: Client, email: str, password: str = PASSWORD, next_url: str = "/users/me"):
    page = browser.get(LOGIN, {"next": next_url})
    data = {"email": email, "password": password, "next": next_url, "csrfmiddlewaretoken": form_token(page)}
    return browser.post(LOGIN, data)


def csrf_header(browser: Client) -> dict:
    return {"HTTP_X_CSRFTOKEN": browser.cookies["csrftoken"].value}


# --- The login page ---------------------------------------------------------------------------
@pytest.mark.parametrize("path", [LOGIN, LOGIN.rstrip("/")])
def test_the_login_page_is_a_form_with_a_csrf_token(browser, path):
    r = browser.get(path, {"next": "/users/me"})
    assert r.status_code == 200
    html = r.content.decode()
    assert 'name="email"' in html and 'type="password"' in html
    assert 'name="next" value="/users/me"' in html
    assert form_token(r) and "csrftoken" in r.cookies
    assert "no-cache" in r["Cache-Control"] or "max-age=0" in r["Cache-Control"]


def test_the_browsable_api_links_to_the_login_page(browser):
    r = browser.get("/users/me", HTTP_ACCEPT="text/html")
    assert r.status_code == 401
    assert "href='/api-auth/login?next=/users/me'" in r.content.decode()


def test_logging_in_sets_an_httponly_samesite_cookie_and_goes_to_next(browser, user):
    r = log_in(browser, user.email, next_url="/users/me")
    assert r.status_code == 302 and r["Location"] == "/users/me"
    cookie = r.cookies[ACCESS_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert cookie["max-age"] == int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())
    assert AccessToken(cookie.value)["user_id"] == str(user.id)
    # No refresh token reaches the browser.
    assert set(r.cookies) <= {ACCESS_COOKIE, "csrftoken"}
    assert AuditEvent.objects(action="login", target=user.id).count() == 1


@pytest.mark.parametrize("debug, secure", [(False, True), (True, "")])
def test_the_cookie_is_secure_unless_debug(browser, user, debug, secure):
    with override_settings(DEBUG=debug):
        r = log_in(browser, user.email)
    assert r.cookies[ACCESS_COOKIE]["secure"] == secure


def test_logging_in_gives_a_new_csrf_token(browser, user):
    before = browser.get(LOGIN).cookies["csrftoken"].value
    log_in(browser, user.email)
    assert browser.cookies["csrftoken"].value != before


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""])
def test_next_must_be_on_this_site(browser, user, target):
    r = log_in(browser, user.email, next_url=target)
    assert r.status_code == 302 and r["Location"] == DEFAULT_NEXT


def test_a_login_post_without_csrf_token_is_refused(browser, user):
    r = browser.post(LOGIN, {"email": user.email, "password": PASSWORD})
    assert r.status_code == 403
    assert ACCESS_COOKIE not in r.cookies


@pytest.mark.parametrize("email, password", [("alice@example.com", "Wrong-Passw0rd!"), ("nobody@example.com", PASSWORD)])
def test_a_wrong_password_or_unknown_email_shows_one_message(browser, user, email, password):
    r = log_in(browser, email, password)
    assert r.status_code == 401
    assert INVALID_LOGIN in r.content.decode()
    assert ACCESS_COOKIE not in r.cookies
    assert password not in r.content.decode()


def test_an_invalid_form_is_a_400(browser):
    page = browser.get(LOGIN)
    r = browser.post(LOGIN, {"email": "not-an-email", "password": "", "csrfmiddlewaretoken": form_token(page)})
    assert r.status_code == 400
    assert ACCESS_COOKIE not in r.cookies


def test_the_failed_login_lock_out_applies_to_the_page(browser, user):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert log_in(browser, user.email, "Wrong-Passw0rd!").status_code == 401
    r = log_in(browser, user.email)  # the right password, but locked out
    assert r.status_code == 429
    assert "Too many failed login attempts" in r.content.decode()
    assert ACCESS_COOKIE not in r.cookies


def test_the_page_shares_the_login_rate_with_post_login(browser, api, user, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, "login": "2/min"})
    for _ in range(2):
        assert api.post("/login", {"email": user.email, "password": PASSWORD}, format="json").status_code == 200
    r = log_in(browser, user.email)
    assert r.status_code == 429


def test_the_page_logs_in_with_as_few_round_trips_as_post_login(browser, user, round_trips):
    """The page's rate-limit hit is counted with the lock-out's counters, as POST /login's is
    (common/throttling.py DeferredThrottle): the read, the reservation, the session's batch."""
    page = browser.get(LOGIN, {"next": "/users/me"})
    data = {"email": user.email, "password": PASSWORD, "next": "/users/me", "csrfmiddlewaretoken": form_token(page)}
    with round_trips() as n:
        assert browser.post(LOGIN, data).status_code == 302
    assert n.count == 3, n.commands


# --- The cookie as authentication -------------------------------------------------------------
def test_the_cookie_authenticates_safe_requests(browser, user):
    log_in(browser, user.email)
    r = browser.get("/users/me")
    assert r.status_code == 200
    assert r.json()["user"]["_id"] == str(user.id)
    html = browser.get("/users/me", HTTP_ACCEPT="text/html").content.decode()
    assert "Log out" in html and "alice" in html


def test_an_unsafe_request_with_the_cookie_but_no_csrf_token_is_refused(browser, user):
    log_in(browser, user.email)
    r = browser.post("/users/link_id", json.dumps({"user_id": str(user.id), "linked_id": "ext-1"}), content_type="application/json")
    assert r.status_code == 403
    assert r.json()["detail"].startswith("CSRF Failed")
    assert LinkedId.objects.count() == 0


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_other_unsafe_methods_need_the_csrf_token_too(browser, user, method):
    log_in(browser, user.email)
    r = getattr(browser, method)(f"/users/{user.id}?reason=x", json.dumps({"username": "mallory"}), content_type="application/json")
    assert r.status_code == 403
    user.reload()
    assert user.username == "alice" and not user.in_trash


@pytest.mark.parametrize(
    "token,expected,links",
    [("own", 200, 1), ("x" * 32, 403, 0)],
    ids=["with-its-own-csrf-token-accepted", "with-a-csrf-token-from-elsewhere-refused"],
)
def test_an_unsafe_request_needs_the_csrf_token_of_its_cookie(browser, user, token, expected, links):
    log_in(browser, user.email)
    header = csrf_header(browser) if token == "own" else {"HTTP_X_CSRFTOKEN": token}
    r = browser.post(
        "/users/link_id",
        json.dumps({"user_id": str(user.id), "linked_id": "ext-1"}),
        content_type="application/json",
        **header,
    )
    assert r.status_code == expected, r.content
    assert LinkedId.objects(user=user.id).count() == links


def test_a_bearer_header_wins_over_the_cookie(browser, user, other):
    log_in(browser, user.email)
    r = browser.get("/users/me", HTTP_AUTHORIZATION=bearer(other))
    assert r.json()["user"]["_id"] == str(other.id)
    # An API client's unsafe request is not held to CSRF, cookie or not.
    r = browser.post(
        "/users/link_id",
        json.dumps({"user_id": str(other.id), "linked_id": "ext-2"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=bearer(other),
    )
    assert r.status_code == 200


def test_a_bad_bearer_header_is_not_rescued_by_the_cookie(browser, user):
    log_in(browser, user.email)
    assert browser.get("/users/me", HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 401


def test_a_garbage_cookie_is_anonymous(browser):
    browser.cookies[ACCESS_COOKIE] = "garbage"
    assert browser.get("/users/me").status_code == 401
    assert browser.get("/health").status_code == 200


def test_an_expired_cookie_is_anonymous(browser, user):
    token = token_pair_for(user).access_token
    token.set_exp(lifetime=-timedelta(minutes=1))  # past the JWT leeway too
    browser.cookies[ACCESS_COOKIE] = str(token)
    assert browser.get("/users/me").status_code == 401


def test_a_password_change_ends_the_browser_session(browser, user):
    log_in(browser, user.email)
    User.objects(id=user.id).update_one(inc__token_version=1)
    assert browser.get("/users/me").status_code == 401


def test_a_refresh_token_in_the_cookie_is_not_accepted(browser, user):
    browser.cookies[ACCESS_COOKIE] = str(token_pair_for(user))
    assert browser.get("/users/me").status_code == 401


# --- Logout -----------------------------------------------------------------------------------
def test_logout_is_a_form_on_get_and_changes_nothing(browser, user):
    log_in(browser, user.email)
    r = browser.get(LOGOUT)
    assert r.status_code == 200 and 'id="logout-form"' in r.content.decode()
    assert browser.get("/users/me").status_code == 200


def test_logout_without_csrf_token_is_refused(browser, user):
    log_in(browser, user.email)
    assert browser.post(LOGOUT).status_code == 403
    assert browser.get("/users/me").status_code == 200


def test_logout_forgets_the_cookie_and_is_audited(browser, user):
    log_in(browser, user.email)
    page = browser.get(LOGOUT, {"next": "/health"})
    r = browser.post(LOGOUT, {"csrfmiddlewaretoken": form_token(page), "next": "/health"})
    assert r.status_code == 302 and r["Location"] == "/health"
    assert r.cookies[ACCESS_COOKIE].value == "" and r.cookies[ACCESS_COOKIE]["max-age"] == 0
    assert browser.get("/users/me").status_code == 401
    assert AuditEvent.objects(action="logout", actor_id=user.id).count() == 1


def test_logout_ends_the_session_so_a_copied_cookie_token_is_refused_too(browser, user):
    r = log_in(browser, user.email)
    stolen = r.cookies[ACCESS_COOKIE].value
    page = browser.get(LOGOUT)
    browser.post(LOGOUT, {"csrfmiddlewaretoken": form_token(page)})
    assert Client().get("/users/me", HTTP_AUTHORIZATION=f"Bearer {stolen}").status_code == 401
    assert User.objects.get(id=user.id).session_ids == []


# --- Two-factor in the browser ------------------------------------------------------------------
def test_a_user_with_two_factor_on_gives_the_code_in_the_form(browser, user):
    secret, recovery = enrol(user)
    r = log_in(browser, user.email)
    assert r.status_code == 401 and "Two-factor code required." in r.content.decode()
    assert ACCESS_COOKIE not in r.cookies
    page = browser.get(LOGIN)
    data = {"email": user.email, "password": PASSWORD, "code": "000000" if code_at(secret) != "000000" else "111111"}
    r = browser.post(LOGIN, {**data, "csrfmiddlewaretoken": form_token(page)})
    assert r.status_code == 401 and "Invalid code." in r.content.decode()
    r = browser.post(LOGIN, {**data, "code": code_at(secret), "csrfmiddlewaretoken": form_token(page)})
    assert r.status_code == 302 and AccessToken(r.cookies[ACCESS_COOKIE].value)["user_id"] == str(user.id)
    other = Client(enforce_csrf_checks=True)
    page = other.get(LOGIN)
    r = other.post(LOGIN, {**data, "code": recovery[0], "csrfmiddlewaretoken": form_token(page)})
    assert r.status_code == 302


# --- OpenAPI ----------------------------------------------------------------------------------
def test_the_schema_leaves_the_cookie_out(api):
    """The cookie is the browsable API's business; a client reading the schema (and Swagger UI's
    "Authorize") sees bearer alone, so the token it pastes is the one its requests send."""
    schema = api.get("/api/schema/", {"format": "json"}).json()
    assert "cookieJwtAuth" not in schema["components"]["securitySchemes"]
    assert schema["paths"]["/users/me"]["get"]["security"] == [{"jwtAuth": []}]


def test_login_page_answers_503_when_the_database_is_unreachable(monkeypatch):
    from django.test import Client
    from pymongo.errors import ServerSelectionTimeoutError

    from accounts.users import login

    def unreachable(**kwargs):
        raise ServerSelectionTimeoutError("no server")

    monkeypatch.setattr(login, "user_login", unreachable)
    client = Client(enforce_csrf_checks=False)
    r = client.post("/api-auth/login/", {"email": "a@example.com", "password": "whatever pass"})
    assert r.status_code == 503
    assert b"database cannot be reached" in r.content
