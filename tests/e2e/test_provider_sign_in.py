"""End to end, in a real browser: a person signs in through an OpenID Connect provider.

Headless Chromium (Playwright) against the service under granian, configured (OIDC_PROVIDERS)
with the test provider (tests/oidc_provider: django-oauth-toolkit, its own process on loopback).
The person clicks through the service's redirect, fills in the provider's login form, and comes
back to the browsable API signed in, with the token pair in the URL fragment; the tokens work.
A second run in the same browser goes straight through (the provider remembers the person) to
the same account.

Run: `.venv/bin/pytest -m e2e tests/e2e` (or `bash .ci/e2e`).
"""
import json
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, _missing
from tests.live_server import running_service
from tests.oidc_provider.process import running_provider

pytestmark = pytest.mark.e2e

CLIENT_ID, CLIENT_SECRET = "user-service-e2e", "e2e-client-secret-0123456789"
PERSON = {"username": "erin", "password": "erin-provider-pass-1", "email": "erin@example.org"}


@pytest.fixture(scope="module")
def playwright_api():
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -r requirements-e2e.txt)")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def provider_and_service(playwright_api):
    SCREENSHOTS.mkdir(exist_ok=True)
    with running_provider() as provider:
        providers = [{"id": "test", "name": "Test provider", "issuer": provider.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}]
        with running_service(SCREENSHOTS / "server-oidc.log", OIDC_PROVIDERS=json.dumps(providers)) as base:
            provider.register_client(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=[f"{base}/auth/providers/test/callback"])
            provider.add_person(**PERSON, email_verified=True, name="Erin")
            yield provider, base


def test_a_person_signs_in_through_the_provider_in_a_browser(playwright_api, provider_and_service):
    provider, base = provider_and_service
    browser = playwright_api.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        page = browser.new_context().new_page()
        with urllib.request.urlopen(f"{base}/auth/providers") as r:
            assert json.load(r) == [{"id": "test", "name": "Test provider"}]

        page.goto(f"{base}/auth/providers/test/redirect?next=/users/me")
        assert page.url.startswith(provider.base_url), page.url  # at the provider's login form
        page.screenshot(path=str(SCREENSHOTS / "oidc-1-provider-login.png"))
        page.fill("#username", PERSON["username"])
        page.fill("#password", PERSON["password"])
        page.click("#sign-in")
        page.wait_for_url(f"{base}/users/me#*")
        page.screenshot(path=str(SCREENSHOTS / "oidc-2-signed-in.png"))

        answer = {k: v[0] for k, v in parse_qs(urlsplit(page.url).fragment).items()}
        assert set(answer) == {"access", "refresh", "user_id"}
        # The browsable API shows the account: the callback set its cookie too.
        assert PERSON["email"] in page.content()
        # The tokens are the service's own: /users/me with the bearer token.
        request = urllib.request.Request(f"{base}/users/me", headers={"Authorization": f"Bearer {answer['access']}"})
        with urllib.request.urlopen(request) as r:
            me = json.load(r)["user"]
        assert me["email"] == PERSON["email"] and me["_id"] == answer["user_id"]

        # Again, in the same browser: the provider knows the person; the same account.
        page.goto(f"{base}/auth/providers/test/redirect?next=/users/me")
        page.wait_for_url(f"{base}/users/me#*")
        again = {k: v[0] for k, v in parse_qs(urlsplit(page.url).fragment).items()}
        assert again["user_id"] == answer["user_id"] and again["access"] != answer["access"]
    finally:
        browser.close()
