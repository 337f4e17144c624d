"""The passkey parts of the browser pages, through Django's test client (the real browser's
run is tests/e2e/test_passkeys_browser.py)."""
import json

import pytest
from django.test import Client

from accounts.mfa.passkeys import sign_in
from accounts.mfa.passkeys.tests.conftest import passkey_add


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def _csrf(browser: Client) -> str:
    page = browser.get("/api-auth/login/")
    assert page.status_code == 200 and b"Sign in with a passkey" in page.content
    return browser.cookies["csrftoken"].value


def _post(browser, body, token):
    return browser.post("/api-auth/passkey", json.dumps(body) if not isinstance(body, str) else body, content_type="application/json", HTTP_X_CSRFTOKEN=token)


def test_sign_in_sets_the_cookie_and_names_the_next_page(browser, user, authenticator):
    passkey_add(user, authenticator)
    token = _csrf(browser)
    options = sign_in.passkey_login_options()
    response = _post(browser, {"ceremony": options["ceremony"], "credential": authenticator.get(options["publicKey"]), "next": "/users/me"}, token)
    assert response.status_code == 200 and response.json() == {"next": "/users/me"}
    cookie = response.cookies["access_token"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert browser.get("/users/me", HTTP_ACCEPT="application/json").status_code == 200
    page = browser.get("/api-auth/passkeys/")
    assert page.status_code == 200 and b"Add a passkey" in page.content and b"laptop" in page.content


def test_another_sites_next_is_not_followed(browser, user, authenticator):
    passkey_add(user, authenticator)
    token = _csrf(browser)
    options = sign_in.passkey_login_options()
    response = _post(browser, {"ceremony": options["ceremony"], "credential": authenticator.get(options["publicKey"]), "next": "https://evil.example.net/"}, token)
    assert response.json() == {"next": "/users/me"}


def test_without_the_csrf_token_nothing_happens(browser, user, authenticator):
    passkey_add(user, authenticator)
    _csrf(browser)
    options = sign_in.passkey_login_options()
    response = _post(browser, {"ceremony": options["ceremony"], "credential": authenticator.get(options["publicKey"])}, "wrong")
    assert response.status_code == 403 and "access_token" not in response.cookies


@pytest.mark.parametrize("body", ["not json", "[1]", {}, {"ceremony": "x", "credential": {}}])
def test_bad_bodies_are_400(browser, body):
    token = _csrf(browser)
    response = _post(browser, body, token)
    assert response.status_code == 400 and response.json()


def test_a_refused_answer_is_the_apis_400(browser, user, authenticator):
    passkey_add(user, authenticator)
    token = _csrf(browser)
    options = sign_in.passkey_login_options()
    credential = authenticator.get(options["publicKey"], origin="https://evil.example.net")
    response = _post(browser, {"ceremony": options["ceremony"], "credential": credential}, token)
    assert response.status_code == 400 and "credential" in response.json()


def test_the_passkeys_page_sends_strangers_to_the_login(browser):
    response = browser.get("/api-auth/passkeys/")
    assert response.status_code == 302 and response["Location"] == "/api-auth/login?next=%2Fapi-auth%2Fpasskeys%2F"
