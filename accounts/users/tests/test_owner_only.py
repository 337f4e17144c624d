"""What only the person may do (their password, their two-factor, their passkeys) is decided by a permission
class (`IsOwner`) before the body is read: an admin, whatever the body, gets the 403, never a 400
that speaks about the body, and never a 404 about the id."""
import pytest
from bson import ObjectId

OWNER_ONLY = [
    ("post", "password", "Only the account's owner may change its password."),
    ("post", "mfa/totp", "Only the account's owner may change its two-factor settings."),
    ("delete", "mfa/totp", "Only the account's owner may change its two-factor settings."),
    ("post", "mfa/totp/confirm", "Only the account's owner may change its two-factor settings."),
    ("post", "mfa/recovery_codes", "Only the account's owner may change its two-factor settings."),
    ("post", "passkeys/options", "Only the account's owner may add or rename its passkeys."),
    ("post", "passkeys", "Only the account's owner may add or rename its passkeys."),
    ("patch", "passkeys/0123456789abcdef01234567", "Only the account's owner may add or rename its passkeys."),
]
BODIES = [{}, {"current_password": ["not", "a", "string"]}, {"code": "x" * 5000, "new_password": 7}]


@pytest.mark.parametrize(("method", "path", "message"), OWNER_ONLY)
@pytest.mark.parametrize("body", BODIES)
def test_an_admin_gets_403_whatever_the_body(client_for, admin, user, method, path, message, body):
    r = getattr(client_for(admin), method)(f"/users/{user.id}/{path}", body, format="json")
    assert r.status_code == 403 and r.json()["detail"] == message, r.content


@pytest.mark.parametrize(("method", "path", "message"), OWNER_ONLY)
def test_an_unknown_id_is_the_same_403(client_for, admin, method, path, message):
    r = getattr(client_for(admin), method)(f"/users/{ObjectId()}/{path}", {}, format="json")
    assert r.status_code == 403 and r.json()["detail"] == message, r.content


@pytest.mark.parametrize(("method", "path", "message"), OWNER_ONLY)
def test_the_owner_with_a_bad_body_gets_the_400(client_for, user, method, path, message):
    r = getattr(client_for(user), method)(f"/users/{user.id}/{path}", {"current_password": ["x"], "code": "no"}, format="json")
    assert r.status_code == 400, r.content
