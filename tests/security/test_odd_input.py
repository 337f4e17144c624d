"""Issue 12, item 2: inputs that were 500s. (a) A lone surrogate in any JSON string; (b) a
Content-Type whose charset is no text encoding, with a query string, on any URL: Django failed
building the request, before any middleware. Both are 400s in DRF's shape, logged with an id."""
import logging

import pytest
from django.test import Client

from tests.conftest import PASSWORD

LONE = '"\\ud800"'


@pytest.mark.parametrize(
    "path, body",
    [
        ("/users/add_details", '{"user_id": "%(id)s", "preferences": {%(s)s: 1}}'),
        ("/users/add_details", '{"user_id": "%(id)s", "preferences": {"k": %(s)s}}'),
        ("/users/add_details", '{"user_id": "%(id)s", "address": %(s)s}'),
        ("/users/register", '{"username": "carol", "email": "carol@example.com", "password": %(s)s}'),
        ("/login", '{"email": "alice@example.com", "password": %(s)s}'),
        ("/users/link_id", '{"user_id": "%(id)s", "linked_id": %(s)s}'),
    ],
)
def test_a_lone_surrogate_in_a_json_string_is_400(client_for, user, path, body):
    raw = body % {"id": user.id, "s": LONE}
    r = client_for(user).generic("POST", path, raw.encode(), content_type="application/json")
    assert r.status_code == 400, r.content
    assert "detail" in r.json()


def test_a_surrogate_pair_is_a_character_and_is_kept(client_for, user):
    raw = '{"user_id": "%s", "preferences": {"emoji": "\\ud83d\\ude00"}}' % user.id
    client = client_for(user)
    assert client.generic("POST", "/users/add_details", raw.encode(), content_type="application/json").status_code == 200
    assert client.get(f"/users/user_with_details/{user.id}").json()["details"]["preferences"] == {"emoji": "\U0001F600"}


@pytest.mark.parametrize("charset", ["rot13", "base64", "zlib", "hex", "bz2", "uu", "no-such-charset"])
@pytest.mark.parametrize(
    "method, path",
    [("GET", "/users?q=a"), ("POST", "/login?x=1"), ("GET", "/nope?x=1"), ("POST", "/api-auth/login/?next=/"), ("GET", "/health?x=1")],
)
def test_a_charset_that_is_no_text_encoding_is_a_400_in_drfs_shape(method, path, charset, caplog):
    caplog.set_level(logging.INFO)
    client = Client(raise_request_exception=True)
    r = client.generic(method, path, b"{}", content_type=f"text/plain; charset={charset}", HTTP_X_REQUEST_ID="charset-probe")
    assert r.status_code == 400
    assert r["Content-Type"] == "application/json"
    assert "charset" in r.json()["detail"]
    assert r["X-Request-ID"] == "charset-probe"
    assert any(rec.request_id == "charset-probe" and rec.levelno >= logging.WARNING for rec in caplog.records)


def test_a_text_charset_still_works(user):
    client = Client()
    r = client.generic(
        "POST", "/login?x=1", ('{"email": "alice@example.com", "password": "%s"}' % PASSWORD).encode("utf-16"),
        content_type="application/json; charset=utf-16",
    )
    assert r.status_code == 200
