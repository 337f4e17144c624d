"""Passkeys end to end, in headless Chromium with a virtual authenticator (the DevTools
protocol's WebAuthn domain: a platform authenticator with resident keys and user verification),
against the service under granian (tests/live_server.py).

A newcomer registers through the browsable API, signs in with the password, adds a passkey on
the passkeys page (/api-auth/passkeys/), logs out, and signs in again with the passkey alone
("Sign in with a passkey" on the login page): no email, no password, the browser offers the
account. The page's origin is http://localhost:PORT (an IP address cannot be a WebAuthn rp id),
and WEBAUTHN_ORIGINS names it.

Run: `.venv/bin/pytest -m e2e tests/e2e` (or `bash .ci/e2e`).
"""
import re

import pytest

from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, _missing, shot
from tests.live_server import running_service

pytestmark = pytest.mark.e2e

PERSON = {"username": "passkey person", "email": "passkey-person@example.com", "password": "a quiet harbour lantern"}


@pytest.fixture(scope="module")
def passkey_server():
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    SCREENSHOTS.mkdir(exist_ok=True)
    settings = {"WEBAUTHN_RP_ID": "localhost", "WEBAUTHN_ORIGINS": "http://localhost:{port}", "LOG_JSON": "true"}
    with running_service(SCREENSHOTS / "server-passkeys.log", **settings) as base:
        yield base.replace("127.0.0.1", "localhost")


@pytest.fixture(scope="module")
def chromium(passkey_server):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -r requirements-e2e.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_register_add_a_passkey_log_out_and_sign_in_with_it_alone(passkey_server, chromium):
    server = passkey_server
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    # The virtual authenticator: a passkey provider built into this "device".
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )["authenticatorId"]

    # Register through the browsable API's form.
    page.goto(f"{server}/users/register")
    form = page.locator("#post-object-form form")  # the register page is an HTML form (issue 25)
    for field in ("username", "email", "password"):
        form.locator(f"input[name={field}]").fill(PERSON[field])
    with page.expect_navigation():
        form.get_by_role("button", name="POST", exact=True).click()
    info = page.locator(".response-info").inner_text()
    assert "HTTP 201 Created" in info
    user_id = re.search(r'"user_id": "([0-9a-f]{24})"', info).group(1)

    # Sign in with the password, landing on the passkeys page.
    page.goto(f"{server}/api-auth/login/?next=/api-auth/passkeys/")
    page.fill("#id_email", PERSON["email"])
    page.fill("#id_password", PERSON["password"])
    with page.expect_navigation():
        page.click("#login-submit")
    assert page.url == f"{server}/api-auth/passkeys/"
    shot(page, "40-passkeys-page")

    # Add a passkey: the password again, then the authenticator makes it.
    page.fill("#id_passkey_name", "this browser")
    page.fill("#id_current_password", PERSON["password"])
    page.click("#passkey-add-submit")
    status = page.locator("#passkey-status")
    status.wait_for(state="visible")
    assert status.inner_text() == "Passkey \u201cthis browser\u201d added.", status.inner_text()
    shot(page, "41-passkey-added")
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(credentials) == 1 and credentials[0]["isResidentCredential"] and credentials[0]["rpId"] == "localhost"
    page.goto(f"{server}/users/{user_id}")
    assert '"passkeys_count": 1' in page.locator(".response-info").inner_text()

    # Log out.
    page.goto(f"{server}/api-auth/logout/?next=/users/me")
    with page.expect_navigation():
        page.click("#logout-submit")
    assert "HTTP 401 Unauthorized" in page.locator(".response-info").inner_text()
    assert not [c for c in context.cookies() if c["name"] == "access_token"]

    # Sign in with the passkey alone: no email typed, no password.
    page.goto(f"{server}/api-auth/login/?next=/users/me")
    shot(page, "42-login-with-passkey-button")
    with page.expect_navigation(url=f"{server}/users/me"):
        page.get_by_role("button", name="Sign in with a passkey").click()
    info = page.locator(".response-info").inner_text()
    assert "HTTP 200 OK" in info and PERSON["email"] in info
    shot(page, "43-signed-in-with-passkey")
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert credentials[0]["signCount"] >= 1

    # The API lists the passkey with its last use.
    listed = page.request.get(f"{server}/users/{user_id}/passkeys", headers={"Accept": "application/json"})
    assert listed.status == 200
    (passkey,) = listed.json()
    assert passkey["name"] == "this browser" and passkey["last_used_at"]
    context.close()
