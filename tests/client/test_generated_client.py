"""A client generated from the live schema by a generator nobody here wrote (openapi-python-client),
with no warnings and no hand edits, drives the whole flow against a live server: register,
login, refresh, link, details, join, me, patch, password, the admin listing, trash and restore,
export, avatar upload and download, and delete.

Run: `bash .ci/client` (installs requirements-client.txt), or `.venv/bin/pytest -m client tests/client`.
"""
import importlib
import io
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from tests.live_server import running_service

pytestmark = pytest.mark.client

ADMIN = {"username": "client admin", "email": "client-admin@example.com", "password": "client-Admin-passphrase-7"}
PACKAGE = "usersvc_client"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "server.log"
    with running_service(log, ADMIN_USERNAME=ADMIN["username"], ADMIN_EMAIL=ADMIN["email"], ADMIN_PASSWORD=ADMIN["password"]) as base:
        yield base


@pytest.fixture(scope="module")
def generated(server, tmp_path_factory):
    """The client package, generated from the schema the server serves."""
    where = tmp_path_factory.mktemp("generated")
    with urllib.request.urlopen(f"{server}/api/schema/?format=json", timeout=10) as r:
        (where / "schema.json").write_bytes(r.read())
    bin_dir = Path(sys.executable).parent
    generator = bin_dir / "openapi-python-client"
    if not generator.exists():
        pytest.fail("openapi-python-client is not installed: pip install -r requirements-client.txt")
    result = subprocess.run(
        [str(generator), "generate", "--path", "schema.json", "--meta", "none", "--output-path", PACKAGE],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=300,
        # Its post-generation hooks run ruff, installed beside it.
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(where)},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower(), output
    assert "not in PATH" not in output, output
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def api(name: str):
    """A generated operation module by tag and operationId, e.g. api("auth.login")."""
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def model(name: str):
    return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_the_whole_flow_through_the_generated_client(server, generated):
    from http import HTTPStatus

    client = generated.Client(base_url=server, raise_on_unexpected_status=True)
    assert api("operations.health").sync(client=client).status == "ok"

    # Register; a taken name is a typed 409 with suggestions; a weak password a typed 400.
    created = api("auth.register").sync_detailed(
        client=client, body=model("RegisterInputRequest")(username="client user", email="client@example.com", password="a long river stone")
    )
    assert created.status_code == HTTPStatus.CREATED
    user_id = created.parsed.user_id
    taken = api("auth.register").sync_detailed(
        client=client, body=model("RegisterInputRequest")(username="client user", email="other@example.com", password="a long river stone")
    )
    assert taken.status_code == HTTPStatus.CONFLICT and len(taken.parsed.suggested_usernames) == 5
    weak = api("auth.register").sync_detailed(
        client=client, body=model("RegisterInputRequest")(username="weak one", email="weak@example.com", password="12345678")
    )
    assert weak.status_code == HTTPStatus.BAD_REQUEST and weak.parsed.password

    # Log in, refresh (rotation), and use the new access token.
    login = api("auth.login").sync(client=client, body=model("LoginInputRequest")(email="client@example.com", password="a long river stone"))
    assert login.user_id == user_id
    pair = api("auth.refresh_tokens").sync(client=client, body=model("RefreshInputRequest")(refresh=login.refresh))
    reused = api("auth.refresh_tokens").sync_detailed(client=client, body=model("RefreshInputRequest")(refresh=login.refresh))
    assert reused.status_code == HTTPStatus.UNAUTHORIZED and reused.parsed.detail
    me = generated.AuthenticatedClient(base_url=server, token=pair.access, raise_on_unexpected_status=True)

    # Link an id, add details, read the join and /users/me.
    linked = api("users.link_id").sync(client=me, body=model("LinkIdInputRequest")(user_id=user_id, linked_id="crm:42"))
    assert linked.linked_id == "crm:42"
    preferences = model("AddDetailsInputRequestPreferences").from_dict({"theme": "dark"})
    details = model("AddDetailsInputRequest")(user_id=user_id, address="1 Main St", phone="+919876543210", preferences=preferences)
    assert api("users.add_details").sync(client=me, body=details).message == "Details added/updated successfully"
    joined = api("users.get_user_with_details").sync(user_id, client=me)
    assert joined.user.linked_id == "crm:42" and joined.details.phone == "+919876543210"
    assert joined.details.preferences.additional_properties == {"theme": "dark"}
    assert api("users.get_me").sync(client=me).user.email == "client@example.com"

    # Change the username, then the password: every token stops working; log in again.
    renamed = api("users.update_user").sync(user_id, client=me, body=model("PatchedUserUpdateInputRequest")(username="client user b"))
    assert renamed.username == "client user b" and renamed.role.value == "user"
    changed = api("users.change_password").sync_detailed(
        user_id,
        client=me,
        body=model("PasswordChangeInputRequest")(current_password="a long river stone", new_password="another long stone"),
    )
    assert changed.status_code == HTTPStatus.NO_CONTENT
    assert api("users.get_me").sync_detailed(client=me).status_code == HTTPStatus.UNAUTHORIZED
    login = api("auth.login").sync(client=client, body=model("LoginInputRequest")(email="client@example.com", password="another long stone"))
    me = generated.AuthenticatedClient(base_url=server, token=login.access, raise_on_unexpected_status=True)

    # The admin: the listing finds the user; the user trashes themselves; the admin sees the trash
    # entry and restores the account.
    admin_login = api("auth.login").sync(client=client, body=model("LoginInputRequest")(email=ADMIN["email"], password=ADMIN["password"]))
    admin = generated.AuthenticatedClient(base_url=server, token=admin_login.access, raise_on_unexpected_status=True)
    listing = api("admin.list_users").sync(client=admin, q="client user", per_page=5)
    assert listing.total == 1 and listing.data[0].id == user_id and listing.data[0].linked_ids == ["crm:42"]
    assert api("admin.get_user_by_linked_id").sync("crm:42", client=admin).id == user_id
    forbidden = api("admin.list_users").sync_detailed(client=me)
    assert forbidden.status_code == HTTPStatus.FORBIDDEN and forbidden.parsed.detail
    assert api("users.trash_user").sync_detailed(user_id, client=me, reason="taking a break").status_code == HTTPStatus.NO_CONTENT
    trash = api("admin.list_trash").sync(client=admin)
    assert [(e.user_id, e.reason) for e in trash.data] == [(user_id, "taking a break")]
    assert api("admin.restore_user").sync(user_id, client=admin).id == user_id
    login = api("auth.login").sync(client=client, body=model("LoginInputRequest")(email="client@example.com", password="another long stone"))
    me = generated.AuthenticatedClient(base_url=server, token=login.access, raise_on_unexpected_status=True)
    assert api("users.get_user").sync(user_id, client=me).username == "client user b"

    # Avatar: upload a PNG, download it as a file, delete it.
    file = generated.types.File(payload=io.BytesIO(png_bytes()), file_name="me.png", mime_type="image/png")
    uploaded = api("avatars.upload_avatar").sync(user_id, client=me, body=model("AvatarInputRequest")(file=file))
    assert uploaded.avatar_url.endswith(f"/users/{user_id}/avatar")
    downloaded = api("avatars.get_avatar").sync(user_id, client=me)
    image = Image.open(io.BytesIO(downloaded.payload.read()))
    assert image.format == "PNG" and image.size == (32, 24)

    # Export: everything stored, typed.
    export = api("users.export_user").sync(user_id, client=me)
    assert export.user.username == "client user b" and "details" in export.collections.additional_properties

    assert api("avatars.delete_avatar").sync_detailed(user_id, client=me).status_code == HTTPStatus.NO_CONTENT
    assert api("users.unlink_id").sync_detailed(user_id, "crm:42", client=me).status_code == HTTPStatus.NO_CONTENT

    # Log out a refresh token; then the chain delete: the user and their tokens are gone.
    assert api("auth.logout").sync_detailed(client=client, body=model("RefreshInputRequest")(refresh=login.refresh)).status_code == 204
    deleted = api("users.delete_user").sync(user_id, client=me, reason="done")
    assert deleted.message == "User and associated data deleted successfully"
    gone = api("users.get_me").sync_detailed(client=me)
    assert gone.status_code == HTTPStatus.UNAUTHORIZED and json.loads(gone.content)["detail"]

    # Admin bulk trash and purge of another account.
    other = api("auth.register").sync(
        client=client, body=model("RegisterInputRequest")(username="spam bot", email="spam@example.com", password="a long river stone")
    )
    bulk = api("admin.trash_users_bulk").sync(client=admin, body=model("BulkDeleteInputRequest")(ids=[other.user_id, user_id], reason="spam"))
    assert (bulk.deleted_now, bulk.not_found) == ([other.user_id], [user_id])
    assert api("admin.purge_user").sync_detailed(other.user_id, client=admin).status_code == HTTPStatus.NO_CONTENT
