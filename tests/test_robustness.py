"""No input, however malformed, produces a 500; errors keep DRF's shapes; ids that are malformed or
unknown are 404s; no response body or log line carries a password or a hash (API.md, "Conventions")."""
import json
import logging

import pytest

from accounts.users.documents import User
from accounts.users.linked_ids import linked_id_add
from tests.conftest import PASSWORD
from tests.helpers_http import HASH_MARKERS, assert_no_password_material, json_keys

UNKNOWN_ID = "0123456789abcdef01234567"


@pytest.fixture
def owner_client(client_for, user):
    return client_for(user)


def posts(user):
    """The seed endpoints that take a body, with a valid body for `user`."""
    return {
        "/users/register": {"username": "carol", "email": "carol@example.com", "password": PASSWORD},
        "/login": {"email": "alice@example.com", "password": PASSWORD},
        "/users/link_id": {"user_id": str(user.id), "linked_id": "ext-1"},
        "/users/add_details": {"user_id": str(user.id), "address": "x"},
    }


POST_PATHS = ["/users/register", "/login", "/users/link_id", "/users/add_details"]


# --- bodies that are not JSON objects ----------------------------------------------------------
@pytest.mark.parametrize("path", POST_PATHS)
@pytest.mark.parametrize("raw", ["{bad", '{"a": 1,}', "{'single': 'quotes'}", '{"a": 1', "nul\x00l", "[" * 5000 + "]" * 5000, '{"a":' * 5000])
def test_malformed_json_is_400_in_drfs_shape(owner_client, path, raw):
    r = owner_client.post(path, data=raw, content_type="application/json")
    assert r.status_code == 400, (path, r.status_code, r.content[:200])
    body = r.json()
    assert set(body) == {"detail"} and body["detail"].startswith("JSON parse error"), body


@pytest.mark.parametrize("path", POST_PATHS)
def test_invalid_utf8_is_400(owner_client, path):
    r = owner_client.post(path, data=b'{"username": "\xff\xfe"}', content_type="application/json")
    assert r.status_code == 400, r.content
    assert set(r.json()) == {"detail"}


@pytest.mark.parametrize("path", POST_PATHS)
@pytest.mark.parametrize("raw", ["[]", "null", '"a string"', "42", "true", "[{}]"])
def test_json_that_is_not_an_object_is_400(owner_client, path, raw):
    r = owner_client.post(path, data=raw, content_type="application/json")
    assert r.status_code == 400, (path, raw, r.content[:200])
    assert isinstance(r.json(), dict)


@pytest.mark.parametrize("path", POST_PATHS)
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "application/octet-stream"],
)
def test_a_body_that_is_not_json_is_415(owner_client, user, path, content_type):
    r = owner_client.post(path, data="username=carol&email=carol@example.com", content_type=content_type)
    assert r.status_code == 415, (path, content_type, r.content[:200])
    assert set(r.json()) == {"detail"} and "Unsupported media type" in r.json()["detail"]
    assert User.objects.count() == 1


@pytest.mark.parametrize("path", POST_PATHS)
@pytest.mark.parametrize("value", [None, 123, 1.5, True, [], ["a"], {}, {"$gt": ""}, "x" * 100_000, "nul\x00"])
def test_any_field_of_any_type_is_never_a_500(owner_client, user, path, value):
    for field in posts(user)[path]:
        body = {**posts(user)[path], field: value}
        r = owner_client.post(path, body, format="json")
        assert r.status_code < 500, (path, field, value if not isinstance(value, str) else value[:20], r.content[:200])
        assert isinstance(r.json(), dict)


def test_an_operator_object_as_email_logs_nobody_in(api, user):
    """A `{"$gt": ""}` must never reach a MongoDB query as an operator."""
    r = api.post("/login", {"email": {"$gt": ""}, "password": PASSWORD}, format="json")
    assert r.status_code == 400 and "access" not in r.json()


def test_a_body_larger_than_the_upload_limit_is_400_not_500(api, settings):
    settings.DEBUG = False
    huge = json.dumps({"username": "a" * 7_000_000, "email": "big@example.com", "password": PASSWORD})
    r = api.post("/users/register", data=huge, content_type="application/json")
    assert r.status_code in (400, 413), r.status_code
    assert set(r.json()) == {"detail"}
    assert User.objects.count() == 0


# --- methods and paths --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/users/register"),
        ("get", "/login"),
        ("get", "/users/link_id"),
        ("put", "/users/add_details"),
        ("post", "/users/user_with_details/{id}"),
        ("get", "/users/delete_user/{id}"),
    ],
)
def test_a_wrong_method_is_405(owner_client, user, method, path):
    r = getattr(owner_client, method)(path.replace("{id}", str(user.id)))
    assert r.status_code == 405, r.content
    assert set(r.json()) == {"detail"}


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("path", ["/nope", "/users/register/extra", "/users/user_with_details", "/../etc/passwd"])
def test_unknown_paths_are_404_json(owner_client, settings, debug, path):
    settings.DEBUG = debug
    r = owner_client.get(path)
    assert r.status_code == 404
    assert set(r.json()) == {"detail"}


# --- malformed and unknown ids: 404, even for an admin -------------------------------------------
MALFORMED_IDS = ["abc", "zzzzzzzzzzzzzzzzzzzzzzzz", "0" * 23, "0" * 25, "-1", "%00", "null", "<script>", "0x" + "a" * 22]


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("user_id", MALFORMED_IDS + [UNKNOWN_ID])
@pytest.mark.parametrize("method,template", [("get", "/users/user_with_details/{}"), ("delete", "/users/delete_user/{}"), ("get", "/users/{}")])
def test_malformed_and_unknown_ids_in_the_path_are_404_for_an_admin(client_for, admin, settings, debug, user_id, method, template):
    settings.DEBUG = debug
    r = getattr(client_for(admin), method)(template.format(user_id))
    assert r.status_code == 404, (template, user_id, r.status_code, r.content[:200])
    assert set(r.json()) == {"detail"}


@pytest.mark.parametrize("user_id", MALFORMED_IDS + [UNKNOWN_ID, 12345, "0123456789ABCDEF0123456" + "8"])
@pytest.mark.parametrize("path", ["/users/link_id", "/users/add_details"])
def test_malformed_and_unknown_ids_in_the_body_are_404_for_an_admin(client_for, admin, path, user_id):
    body = {"user_id": user_id, "linked_id": "ext-1", "address": "x"}
    r = client_for(admin).post(path, body, format="json")
    assert r.status_code == 404, (path, user_id, r.content[:200])
    assert set(r.json()) == {"detail"}


def test_an_upper_case_id_names_the_same_user(client_for, user, admin):
    r = client_for(admin).get(f"/users/user_with_details/{str(user.id).upper()}")
    assert r.status_code == 200 and r.json()["user"]["_id"] == str(user.id)


@pytest.mark.parametrize(
    "authorization", ["Bearer", "Bearer a b c", "Basic dXNlcjpwYXNz", "Bearer ÿÿÿ", "Bearer " + "a" * 10_000, "Bearer eyJ.eyJ.sig"]
)
def test_odd_authorization_headers_are_401(api, user, authorization):
    api.credentials(HTTP_AUTHORIZATION=authorization)
    r = api.get(f"/users/user_with_details/{user.id}")
    assert r.status_code == 401, (authorization[:20], r.content[:200])
    assert "detail" in r.json()  # simplejwt adds "code" and "messages" beside it


# --- no password or hash, anywhere ------------------------------------------------------------
def test_no_response_or_log_line_carries_a_password_or_hash_across_a_full_flow(api, client_for, admin, caplog):
    caplog.set_level(logging.DEBUG)
    responses = []

    def call(label, client, method, path, body=None, expect=(200, 201, 204)):
        r = getattr(client, method)(path, body, format="json") if body is not None else getattr(client, method)(path)
        assert r.status_code in expect, (label, r.status_code, r.content[:300])
        responses.append((label, r))
        return r

    new_password = "an-entirely-fresh-passphrase"
    user_id = call("register", api, "post", "/users/register", {"username": "flow", "email": "flow@example.com", "password": PASSWORD}).json()["user_id"]
    tokens = call("login", api, "post", "/login", {"email": "flow@example.com", "password": PASSWORD}).json()
    own = client_for(None)
    own.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    boss = client_for(admin)
    call("link_id", own, "post", "/users/link_id", {"user_id": user_id, "linked_id": "flow-1"})
    call("link_id 2", own, "post", "/users/link_id", {"user_id": user_id, "linked_id": "flow-2"})
    call("add_details", own, "post", "/users/add_details", {"user_id": user_id, "address": "1 Main St", "phone": "+15551234567", "preferences": {"a": 1}})
    call("user_with_details", own, "get", f"/users/user_with_details/{user_id}")
    call("me", own, "get", "/users/me")
    html = own.get("/users/me", HTTP_ACCEPT="text/html")  # the browsable API
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html"), html.status_code
    responses.append(("me (browsable API)", html))
    call("retrieve", own, "get", f"/users/{user_id}")
    call("patch", own, "patch", f"/users/{user_id}", {"username": "flow two"})
    call("export", own, "get", f"/users/{user_id}/export")
    call("unlink", own, "delete", f"/users/{user_id}/linked_ids/flow-2")
    call("refresh", api, "post", "/auth/refresh", {"refresh": tokens["refresh"]})
    call("password", own, "post", f"/users/{user_id}/password", {"current_password": PASSWORD, "new_password": new_password})
    tokens = call("login again", api, "post", "/login", {"email": "flow@example.com", "password": new_password}).json()
    own.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    call("logout", api, "post", "/auth/logout", {"refresh": tokens["refresh"]})
    call("list", boss, "get", "/users?q=flow")
    call("by_linked_id", boss, "get", "/users/by_linked_id/flow-1")
    call("admin join", boss, "get", f"/users/user_with_details/{user_id}")
    call("admin export", boss, "get", f"/users/{user_id}/export")
    call("trash", boss, "delete", f"/users/{user_id}?reason=flow")  # the logout ended own's session
    call("trash list", boss, "get", "/trash")
    call("restore", boss, "post", f"/trash/{user_id}/restore")
    call("bulk_delete", boss, "post", "/trash/bulk_delete", {"ids": [user_id], "reason": "flow"})
    call("purge", boss, "delete", f"/trash/{user_id}")
    call("health", api, "get", "/health")
    # Failures speak too: none of them may echo a secret either.
    call("bad login", api, "post", "/login", {"email": "alice@nowhere.com", "password": PASSWORD}, expect=(401,))
    call("taken email", api, "post", "/users/register", {"username": "x y z", "email": admin.email, "password": PASSWORD}, expect=(409,))

    stored_hash = User.objects.get(id=admin.id).password
    assert len(responses) >= 28
    for label, r in responses:
        assert_no_password_material(r, label=label, extra=(PASSWORD, new_password, stored_hash))
        if r.get("Content-Type", "").startswith("application/json") and r.content:
            assert not any("password" in key.lower() for key in json_keys(r.json())), label
    logged = caplog.text
    assert caplog.records, "nothing was logged: the log check below would prove nothing"
    for secret in (PASSWORD, new_password, stored_hash) + HASH_MARKERS:
        assert secret not in logged, f"{secret!r} in the log"


def test_a_user_rendered_anywhere_has_no_password_key(client_for, user, admin):
    linked_id_add(user=user, linked_id="ext-1")
    for r in (
        client_for(user).get(f"/users/{user.id}"),
        client_for(admin).get("/users"),
        client_for(admin).get("/users/by_linked_id/ext-1"),
        client_for(user).get(f"/users/{user.id}/export"),
    ):
        assert r.status_code == 200, r.content
        assert not any("password" in key.lower() for key in json_keys(r.json())), r.content[:300]
        assert user.password not in r.content.decode()
