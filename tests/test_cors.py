"""Cross-origin requests (django-cors-headers): closed unless CORS_ALLOWED_ORIGINS lists the
origin; credentials only ever for a listed origin, and only when CORS_ALLOW_CREDENTIALS is on."""
import subprocess
import sys

import pytest

from tests.conftest import bearer

APP = "https://app.example.com"
EVIL = "https://evil.example.net"


def preflight(api, origin, method="GET", headers="authorization"):
    return api.options(
        "/users/me",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def test_nothing_is_allowed_by_default(api, user, settings):
    assert settings.CORS_ALLOWED_ORIGINS == []
    r = preflight(api, APP)
    assert "Access-Control-Allow-Origin" not in r
    r = api.get("/users/me", HTTP_ORIGIN=APP, HTTP_AUTHORIZATION=bearer(user))
    assert r.status_code == 200  # the server answers; the browser withholds it from the page
    assert "Access-Control-Allow-Origin" not in r and "Access-Control-Allow-Credentials" not in r


def test_a_listed_origin_may_call_with_a_bearer_token(api, user, settings):
    settings.CORS_ALLOWED_ORIGINS = [APP]
    r = preflight(api, APP, "PATCH", "authorization, content-type")
    assert r.status_code == 200
    assert r["Access-Control-Allow-Origin"] == APP
    assert "PATCH" in r["Access-Control-Allow-Methods"]
    assert {"authorization", "content-type"} <= {h.strip() for h in r["Access-Control-Allow-Headers"].split(",")}
    assert "Access-Control-Allow-Credentials" not in r  # off unless asked for
    r = api.get("/users/me", HTTP_ORIGIN=APP, HTTP_AUTHORIZATION=bearer(user))
    assert r.status_code == 200 and r["Access-Control-Allow-Origin"] == APP
    assert "x-request-id" in r["Access-Control-Expose-Headers"].lower()
    assert "origin" in r["Vary"].lower()


def test_an_unlisted_origin_gets_nothing_and_never_credentials(api, user, settings):
    settings.CORS_ALLOWED_ORIGINS = [APP]
    settings.CORS_ALLOW_CREDENTIALS = True
    for r in (preflight(api, EVIL), api.get("/users/me", HTTP_ORIGIN=EVIL, HTTP_AUTHORIZATION=bearer(user))):
        assert "Access-Control-Allow-Origin" not in r
        assert "Access-Control-Allow-Credentials" not in r
    # A look-alike of the listed origin is another origin.
    for origin in ("https://app.example.com.evil.example.net", "http://app.example.com", "https://app.example.com:8443"):
        assert "Access-Control-Allow-Origin" not in preflight(api, origin)


def test_credentials_only_for_a_listed_origin_when_switched_on(api, settings):
    settings.CORS_ALLOWED_ORIGINS = [APP]
    settings.CORS_ALLOW_CREDENTIALS = True
    r = preflight(api, APP)
    assert r["Access-Control-Allow-Origin"] == APP  # never "*" with credentials
    assert r["Access-Control-Allow-Credentials"] == "true"


def test_errors_carry_cors_headers_too(api, settings):
    """A page must be able to read a 401 or 404 body to tell its user what went wrong."""
    settings.CORS_ALLOWED_ORIGINS = [APP]
    r = api.get("/users/me", HTTP_ORIGIN=APP)
    assert r.status_code == 401 and r["Access-Control-Allow-Origin"] == APP
    r = api.get("/no/such/path", HTTP_ORIGIN=APP)
    assert r.status_code == 404 and r["Access-Control-Allow-Origin"] == APP


@pytest.mark.parametrize("origins", ["*", "https://app.example.com,*", "null"])
def test_a_wildcard_in_the_allow_list_stops_the_process(origins):
    r = subprocess.run(
        [sys.executable, "-c", "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings.base'; django.setup()"],
        env={"PATH": "/usr/bin:/bin", "DEBUG": "true", "CORS_ALLOWED_ORIGINS": origins},
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0 and "CORS_ALLOWED_ORIGINS" in r.stderr
