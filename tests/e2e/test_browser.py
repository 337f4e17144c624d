"""End to end, in a real browser: Debian's headless Chromium driven by Playwright, against the
service under granian (the production server; DEBUG, the embedded database on a free port with
a temporary data folder, stopped and wiped afterwards; first admin from ADMIN_*), started here.

1. Swagger UI: a person opens /api/docs/, calls POST /login, authorizes with the access token
   and calls GET /users/me.
2. The browsable API: a person follows "Log in", signs in on the login page, reads /users/me,
   links an id through the POST form (CSRF token and all), sees that a form on another site
   cannot use the session, and logs out.
3. A newcomer starts at /, registers, logs in, edits themselves, links an id, adds details,
   uploads an avatar and deletes the account (with a reason), through the pages' forms alone.
4. Swagger UI and ReDoc make no request to another host.
Afterwards the server's JSON log is read: a request id on every line, and neither the password
nor a token in it. Screenshots go to tests/e2e/screenshots/ (with server.log).

Run: `.venv/bin/pytest -m e2e tests/e2e` (or `bash .ci/e2e`, which installs what it needs).
Skipped when /usr/bin/chromium or playwright is missing, unless E2E_REQUIRED=1.
"""
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.live_server import running_service

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling out, which this sandbox refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MAIL_DIR = Path(tempfile.mkdtemp(prefix="e2e-mail-"))
ADMIN = {"username": "e2e admin", "email": "e2e-admin@example.com", "password": "e2e-Admin-passphrase-7"}


def _missing(reason: str):
    if os.environ.get("E2E_REQUIRED"):
        pytest.fail(f"E2E_REQUIRED is set but {reason}")
    pytest.skip(reason)


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
def server(playwright_api):
    """The service under granian on a free port, on an embedded database of this run alone;
    yields its base URL; the log is kept beside the screenshots."""
    SCREENSHOTS.mkdir(exist_ok=True)
    admin = {"ADMIN_USERNAME": ADMIN["username"], "ADMIN_EMAIL": ADMIN["email"], "ADMIN_PASSWORD": ADMIN["password"]}
    # Mails are written to files (an absolute filemail:/// URL), so a test can follow a link.
    with running_service(SCREENSHOTS / "server.log", LOG_JSON="true", EMAIL_URL=f"filemail://{MAIL_DIR}", **admin) as base:
        yield base
    shutil.rmtree(MAIL_DIR, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(playwright_api, server):
    browser = playwright_api.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    yield context
    context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


SEEN_TOKENS: list[str] = []


def test_swagger_ui_login_authorize_and_call(server, context):
    page = context.new_page()
    page.goto(f"{server}/api/docs/")
    page.wait_for_selector(".swagger-ui .information-container")
    assert "User service" in page.locator(".swagger-ui .info .title").inner_text()
    shot(page, "01-docs")

    # POST /login, through "Try it out".
    login = page.locator("#operations-auth-login")
    login.locator(".opblock-summary").click()
    login.locator(".try-out__btn").click()
    login.locator("textarea.body-param__text").fill(json.dumps({"email": ADMIN["email"], "password": ADMIN["password"]}))
    login.locator(".execute").click()
    status = login.locator(".live-responses-table .response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip().startswith("200")
    body = json.loads(login.locator(".live-responses-table .response-col_description .microlight").first.inner_text())
    assert body["message"] == "Login successful"
    access = body["access"]
    SEEN_TOKENS.extend([access, body["refresh"]])
    login.locator(".live-responses-table").scroll_into_view_if_needed()
    shot(page, "02-docs-login-response")

    # Authorize with the access token.
    page.locator(".auth-wrapper .authorize").click()
    modal = page.locator(".modal-ux")
    jwt = modal.locator(".auth-container").filter(has=page.locator("#auth-bearer-value"))
    jwt.locator("#auth-bearer-value").fill(access)
    shot(page, "03-docs-authorize")
    jwt.locator("button.authorize").click()
    modal.locator("button", has_text="Logout").wait_for()  # the scheme is authorized
    modal.locator("button.btn-done").first.click()

    # GET /users/me with the token.
    me = page.locator("#operations-users-get_me")
    me.scroll_into_view_if_needed()
    me.locator(".opblock-summary").click()
    me.locator(".try-out__btn").click()
    me.locator(".execute").click()
    status = me.locator(".live-responses-table .response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip().startswith("200")
    user = json.loads(me.locator(".live-responses-table .response-col_description .microlight").first.inner_text())
    assert user["user"]["email"] == ADMIN["email"] and user["user"]["role"] == "admin"
    me.locator(".live-responses-table").scroll_into_view_if_needed()
    shot(page, "04-docs-users-me")


@pytest.mark.parametrize("path, ready", [("/api/redoc/", "h1"), ("/api/docs/", ".swagger-ui .information-container")])
def test_docs_pages_make_no_request_to_another_host(server, context, path, ready):
    """Offline means offline: every request the page makes (fonts, logos, scripts) goes to the
    service itself. ReDoc's bundle asks cdn.redoc.ly for a logo; the page's CSP stops it before
    it leaves, so it never reaches the network."""
    local = (server, "data:", f"blob:{server}")
    requested: list[str] = []
    refused_by_csp: list[str] = []
    reached_network: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    context.on("requestfailed", lambda request: refused_by_csp.append(request.url) if request.failure == "csp" else None)
    # Anything that gets past the browser's own checks to the network layer is recorded and aborted.
    context.route(lambda url: not url.startswith(local), lambda route: (reached_network.append(route.request.url), route.abort()))
    page = context.new_page()
    page.goto(f"{server}{path}")
    page.wait_for_selector(ready)
    page.wait_for_load_state("networkidle")
    shot(page, "00-redoc" if "redoc" in path else "00-swagger")
    assert requested and not reached_network, reached_network
    assert [url for url in requested if not url.startswith(local)] == refused_by_csp


def test_browsable_api_login_use_and_logout(server, context):
    page = context.new_page()
    response = page.goto(f"{server}/users/me")
    assert response.status == 401
    assert page.get_by_role("link", name="Log in").is_visible()
    shot(page, "05-api-anonymous")

    page.get_by_role("link", name="Log in").click()
    page.wait_for_url(re.compile(r"/api-auth/login"))
    page.fill("#id_email", ADMIN["email"])
    page.fill("#id_password", "not-the-password")
    page.click("#login-submit")
    assert page.locator(".alert-danger").inner_text().strip() == "Invalid email or password."
    shot(page, "06-login-wrong-password")
    page.fill("#id_password", ADMIN["password"])
    shot(page, "07-login-page")
    with page.expect_navigation():
        page.click("#login-submit")
    assert page.url == f"{server}/users/me"
    info = page.locator(".response-info").inner_text()
    assert "HTTP 200 OK" in info and ADMIN["email"] in info
    user_id = re.search(r'"_id": "([0-9a-f]{24})"', info).group(1)
    assert ADMIN["username"] in page.locator(".navbar .dropdown-toggle").first.inner_text()

    cookie = next(c for c in context.cookies() if c["name"] == "access_token")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("access_token") == -1  # scripts cannot read it
    SEEN_TOKENS.append(cookie["value"])
    shot(page, "08-api-logged-in")

    # An unsafe request through the browsable API's own form (it sends the CSRF token).
    response = page.goto(f"{server}/users/link_id")
    assert response.status == 200  # GET reads nothing here: the page is the POST form
    form = page.locator("#post-generic-content-form form")
    form.locator("textarea[name=_content]").fill(json.dumps({"user_id": user_id, "linked_id": "browser-linked-1"}))
    with page.expect_navigation():
        form.get_by_role("button", name="POST").click()
    info = page.locator(".response-info").inner_text()
    assert "HTTP 200 OK" in info and "ID linked successfully" in info
    shot(page, "09-api-post-with-csrf")

    # A form on another site, posting to the service: the Lax cookie is not sent (and the
    # CSRF check would refuse it if it were), so nothing is linked.
    attacker = context.new_page()
    attacker.set_content(
        f'<form method="post" action="{server}/users/link_id">'
        f'<input name="user_id" value="{user_id}"><input name="linked_id" value="cross-site-1">'
        '<button id="go">go</button></form>'
    )
    with attacker.expect_navigation() as navigation:
        attacker.click("#go")
    assert navigation.value.status in (401, 403)
    shot(attacker, "10-cross-site-form-refused")
    attacker.close()

    page.goto(f"{server}/users/me")
    info = page.locator(".response-info").inner_text()
    assert "browser-linked-1" in info and "cross-site-1" not in info
    shot(page, "11-api-after-link")

    # Log out: the user menu's "Log out" posts with the CSRF token.
    page.locator(".navbar .dropdown-toggle").first.click()
    # The link's href="#" is a navigation of its own; wait for the form's POST and redirect.
    with page.expect_navigation(url=re.compile(r"/users/me$")):
        page.get_by_role("link", name="Log out").click()
    page.wait_for_load_state()
    assert "HTTP 401 Unauthorized" in page.locator(".response-info").inner_text()
    assert page.get_by_role("link", name="Log in").is_visible()
    assert not [c for c in context.cookies() if c["name"] == "access_token"]
    shot(page, "12-api-logged-out")


PERSON = {"username": "browser person", "email": "person@example.com", "password": "a quiet harbour stone"}


def _send_raw(page, container: str, body: dict, button: str) -> str:
    """Fill one of the browsable API's raw-data forms (a JSON textarea) and press its button;
    returns the response panel's text once the new page is there."""
    form = page.locator(f"{container} form")
    form.locator("textarea[name=_content]").fill(json.dumps(body))
    with page.expect_navigation():
        form.get_by_role("button", name=button, exact=True).click()
    return page.locator(".response-info").inner_text()


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (48, 32), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def test_a_person_does_everything_through_the_browsable_api(server, context):
    """Register, log in, edit oneself, link an id, add details, upload an avatar and delete the
    account, with the pages' own forms only (as a person would, starting at /)."""
    page = context.new_page()
    response = page.goto(f"{server}/")
    assert response.status == 200
    assert page.title().endswith("User service") and "Django REST framework" not in page.content()
    shot(page, "20-start-page")

    # Register: the start page links to it; the page is the POST form, not a 405.
    with page.expect_navigation():
        page.locator(".content-main a", has_text="register").first.click()
    assert page.url.endswith("/users/register")
    assert "HTTP 200 OK" in page.locator(".response-info").inner_text()
    assert page.locator(".page-header h1").inner_text() == "Create an account"
    shot(page, "21-register-form")
    # A form with a field per input (not a JSON box); the page's script posts it as JSON.
    form = page.locator("#post-object-form form")
    for field, value in PERSON.items():
        form.locator(f"input[name={field}]").fill(value)
    with page.expect_navigation():
        form.get_by_role("button", name="POST", exact=True).click()
    info = page.locator(".response-info").inner_text()
    assert "HTTP 201 Created" in info and "User registered successfully" in info
    user_id = re.search(r'"user_id": "([0-9a-f]{24})"', info).group(1)
    shot(page, "22-registered")

    # Log in with the browser login page.
    page.goto(f"{server}/api-auth/login/?next=/users/{user_id}")
    page.fill("#id_email", PERSON["email"])
    page.fill("#id_password", PERSON["password"])
    with page.expect_navigation():
        page.click("#login-submit")
    assert page.url == f"{server}/users/{user_id}"
    SEEN_TOKENS.append(next(c["value"] for c in context.cookies() if c["name"] == "access_token"))

    # Edit oneself: the PATCH form holds username and email, not the role.
    content = page.locator("#put-generic-content-form textarea[name=_content]").input_value()
    assert "role" not in content and PERSON["email"] in content
    edited = json.loads(content) | {"username": "browser person b"}
    info = _send_raw(page, "#put-generic-content-form", edited, "PATCH")
    assert "HTTP 200 OK" in info and '"username": "browser person b"' in info
    shot(page, "23-patched")

    # Link an id and add details, each on its own page.
    page.goto(f"{server}/users/link_id")
    info = _send_raw(page, "#post-generic-content-form", {"user_id": user_id, "linked_id": "browser:7"}, "POST")
    assert "HTTP 200 OK" in info and "ID linked successfully" in info
    page.goto(f"{server}/users/add_details")
    details = {"user_id": user_id, "address": "2 Harbour Rd", "phone": "+15551234567", "preferences": {"theme": "light"}}
    info = _send_raw(page, "#post-generic-content-form", details, "POST")
    assert "HTTP 200 OK" in info and "Details added/updated successfully" in info
    shot(page, "24-details")

    # Upload an avatar with the page's file form.
    response = page.goto(f"{server}/users/{user_id}/avatar")
    assert response.status == 404  # none yet; the page offers the upload form
    form = page.locator("#put-object-form form")
    form.locator("input[type=file]").set_input_files({"name": "me.png", "mimeType": "image/png", "buffer": _png()})
    with page.expect_navigation():
        form.get_by_role("button", name="PUT", exact=True).click()
    info = page.locator(".response-info").inner_text()
    assert "HTTP 200 OK" in info and "Image uploaded successfully" in info
    shot(page, "25-avatar-uploaded")
    image = page.request.get(f"{server}/users/{user_id}/avatar", headers={"Accept": "image/*"})
    assert image.status == 200 and image.headers["content-type"] == "image/png" and image.body().startswith(b"\x89PNG")

    # Everything is on /users/me.
    page.goto(f"{server}/users/me")
    info = page.locator(".response-info").inner_text()
    assert all(text in info for text in ("browser person b", "browser:7", "2 Harbour Rd", "+15551234567"))
    shot(page, "26-me")

    # Delete the account: the DELETE dialog asks for the reason the API requires.
    page.goto(f"{server}/users/{user_id}")
    page.get_by_role("button", name="DELETE").click()
    dialog = page.locator("#deleteModal")
    assert dialog.locator("h4").inner_text() == "Move a user to the trash?"
    dialog.locator("#delete-reason").fill("leaving for now")
    shot(page, "27-delete-dialog")
    with page.expect_navigation():
        dialog.locator('form[data-method="DELETE"] button').click()  # aria-hidden by DRF's template
    assert "HTTP 204 No Content" in page.locator(".response-info").inner_text()
    response = page.goto(f"{server}/users/me")
    assert response.status == 401  # the trash move stopped the session's token at once
    shot(page, "28-deleted")


def test_the_server_log_has_request_ids_and_no_secrets(server):
    time.sleep(0.5)  # the last request lines are flushed at once, but be kind to slow disks
    text = (SCREENSHOTS / "server.log").read_text()
    assert ADMIN["password"] not in text
    assert "not-the-password" not in text
    assert SEEN_TOKENS, "the browser tests ran first and saw tokens"
    for token in SEEN_TOKENS:
        assert token not in text
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    access = [r for r in records if r["name"] == "access"]
    assert access and all(re.fullmatch(r"[0-9a-f]{32}", r["request_id"]) for r in access)
    logins = [r for r in access if r["method"] == "POST" and r["path"].rstrip("/") == "/api-auth/login" and r["status"] == 302]
    audits = [r for r in records if r["message"].startswith("audit login ")]
    assert len(logins) == 2  # the admin's and the person's
    assert {login["request_id"] for login in logins} <= {r["request_id"] for r in audits}
    assert PERSON["password"] not in text


def test_a_mails_link_opens_a_form_with_its_token_filled_in(server, context):
    """The verification mail's link, opened in a browser: the token is in the form; one press verifies."""
    import time
    import urllib.request

    body = json.dumps({"username": "link person", "email": "link@example.com", "password": "a quiet harbour stone"}).encode()
    request = urllib.request.Request(f"{server}/users/register", body, {"Content-Type": "application/json"})
    assert urllib.request.urlopen(request, timeout=30).status == 201
    token, deadline = None, time.monotonic() + 20
    while token is None and time.monotonic() < deadline:
        for mail in MAIL_DIR.glob("*.log"):
            text = mail.read_text(errors="replace")
            if "link@example.com" in text:
                token = re.search(r"/auth/email/verify\?token=([A-Za-z0-9_-]+)", text).group(1)
        time.sleep(0.2)
    assert token, "no verification mail was written"
    page = context.new_page()
    page.goto(f"{server}/auth/email/verify?token={token}")  # the link's path, on this server
    form = page.locator("#post-object-form form")
    assert form.locator("input[name=token]").input_value() == token
    shot(page, "40-verify-link")
    with page.expect_navigation():
        form.get_by_role("button", name="POST", exact=True).click()
    info = page.locator(".response-info").inner_text()
    assert "HTTP 200 OK" in info and "Email verified." in info
    shot(page, "41-verified")
