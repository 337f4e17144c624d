"""End to end, in a real browser: Debian's headless Chromium driven by Playwright, against the
service under gunicorn (DEBUG, the embedded database on a free port with a temporary data folder,
stopped and wiped afterwards; first admin from ADMIN_*), started here.

1. Swagger UI: a person opens /api/docs/, calls POST /login, authorizes with the access token
   and calls GET /users/me.
2. The browsable API: a person follows "Log in", signs in on the login page, reads /users/me,
   links an id through the POST form (CSRF token and all), sees that a form on another site
   cannot use the session, and logs out.
Afterwards the server's JSON log is read: a request id on every line, and neither the password
nor a token in it. Screenshots go to tests/e2e/screenshots/ (with server.log).

Run: `.venv/bin/pytest -m e2e tests/e2e` (or `bash .ci/e2e`, which installs what it needs).
Skipped when /usr/bin/chromium or playwright is missing, unless E2E_REQUIRED=1.
"""
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(playwright_api, tmp_path_factory):
    """The service under gunicorn on a free port; yields its base URL; the log is kept."""
    SCREENSHOTS.mkdir(exist_ok=True)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "TEST_MONGODB_URI")}
    env.update(
        DEBUG="true",
        # The embedded database, as a new user gets it, but of this run alone.
        MONGODB_URI="",
        EMBEDDED_MONGODB_PORT=str(_free_port()),
        EMBEDDED_MONGODB_DIR=str(tmp_path_factory.mktemp("e2e-db") / "mongodb"),
        LOG_JSON="true",
        LOG_LEVEL="INFO",
        ADMIN_USERNAME=ADMIN["username"],
        ADMIN_EMAIL=ADMIN["email"],
        ADMIN_PASSWORD=ADMIN["password"],
    )
    log_path = SCREENSHOTS / "server.log"
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", "1", "--worker-class", "gthread", "--threads", "8", "--no-control-socket"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer /health in 60 s:\n{log_path.read_text()}")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        # The service started the embedded server detached (it outlives the service): stop it.
        subprocess.run([sys.executable, "manage.py", "embedded_db", "wipe", "--yes"], cwd=ROOT, env=env, check=False)


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
    login = page.locator("#operations-login-login_create")
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
    me = page.locator("#operations-users-users_me_retrieve")
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
    assert response.status == 405  # GET is not allowed; the page offers the POST form
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
    (login,) = [r for r in access if r["method"] == "POST" and r["path"].rstrip("/") == "/api-auth/login" and r["status"] == 302]
    audits = [r for r in records if r["message"].startswith("audit login ")]
    assert login["request_id"] in {r["request_id"] for r in audits}
