"""Signing in through a real provider (tests/oidc_provider), over HTTP: the browser redirect and
the headless code, new accounts, connecting and disconnecting identities."""
import pytest
from django.contrib.auth.hashers import is_password_usable
from rest_framework.test import APIClient

from accounts.users.documents import User
from accounts.providers.documents import ProviderAuthorization, ProviderIdentity
from tests.oidc_provider.fixtures import CLIENT_ID, app_code, browser_sign_in, fragment
from tests.conftest import PASSWORD, bearer
from tests.two_factor_helpers import code_at, enrol


def signed_in_as(access: str) -> dict:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    response = api.get("/users/me")
    assert response.status_code == 200, response.content
    return response.json()["user"]


def test_providers_are_listed_from_settings(api, provider, settings):
    assert api.get("/auth/providers").json() == [{"id": "test", "name": "Test provider"}]
    settings.OIDC_PROVIDERS = []
    assert api.get("/auth/providers/").json() == []
    assert api.get("/auth/providers/test/redirect").status_code == 404


def test_a_new_person_signs_in_in_a_browser_and_gets_an_account(api, provider, person):
    someone = person("dana.l", email="Dana@Example.org", name="Dana L")
    response = browser_sign_in(api, provider, someone, next_url="/landing")
    assert response.status_code == 302
    assert response["Location"].startswith("/landing#")
    answer = fragment(response)
    me = signed_in_as(answer["access"])
    assert me["email"] == "Dana@Example.org" and me["username"] == "dana.l"
    user = User.objects.get(id=answer["user_id"])
    assert user.email_verified is True  # the provider vouched for it
    assert not is_password_usable(user.password)  # no password until a reset sets one
    identity = ProviderIdentity.objects.get(user=user.id)
    assert (identity.issuer, identity.subject, identity.provider) == (provider.issuer, someone.sub, "test")
    # Back on this site: the browsable API's cookie is set too; the flow's binding cookie is gone.
    assert response.cookies["access_token"].value == answer["access"]
    assert response.cookies["oidc_flow"].value == ""
    assert ProviderAuthorization.objects.count() == 0  # spent


def test_the_redirect_carries_pkce_state_and_nonce_and_stores_them_hashed_or_server_side(api, provider):
    response = api.get("/auth/providers/test/redirect")
    location = response["Location"]
    assert location.startswith(f"{provider.issuer}/authorize/")
    for part in ("code_challenge=", "code_challenge_method=S256", "state=", "nonce=", f"client_id={CLIENT_ID}", "scope=openid"):
        assert part in location
    pending = ProviderAuthorization.objects.get()
    state = location.split("state=")[1].split("&")[0]
    assert state not in pending.state_hash and pending.next_url == "/users/me"
    cookie = response.cookies["oidc_flow"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/auth/providers/"


def test_the_same_person_signs_in_again_to_the_same_account(api, provider, person):
    someone = person()
    first = fragment(browser_sign_in(api, provider, someone))
    again = api.post("/auth/providers/test/token", app_code(provider, someone).body(), format="json")
    assert again.status_code == 200, again.content
    assert again.json()["user_id"] == first["user_id"] and again.json()["message"] == "Login successful"
    assert User.objects.count() == 1 and ProviderIdentity.objects.count() == 1


def test_a_taken_username_gets_a_free_one(api, provider, person, make_user):
    make_user("carol", "carol-here@example.com")
    response = api.post("/auth/providers/test/token", app_code(provider, person("carol")).body(), format="json")
    assert response.status_code == 200, response.content
    answer = response.json()
    username = User.objects.get(id=answer["user_id"]).username
    assert username != "carol" and username.startswith("carol")


def test_a_user_with_a_password_connects_the_provider_and_signs_in_with_either(api, provider, person, user):
    someone = person(email="alice-elsewhere@example.org")
    api.credentials(HTTP_AUTHORIZATION=bearer(user))
    connected = api.post(f"/users/{user.id}/identities/test", app_code(provider, someone).body(), format="json")
    assert connected.status_code == 201, connected.content
    assert set(connected.json()) == {"id", "provider", "subject", "email", "created_at"}
    again = api.post(f"/users/{user.id}/identities/test", app_code(provider, someone).body(), format="json")
    assert again.status_code == 200 and again.json()["id"] == connected.json()["id"]
    listed = api.get(f"/users/{user.id}/identities").json()
    assert [i["subject"] for i in listed] == [someone.sub]

    anonymous = APIClient()
    by_provider = fragment(browser_sign_in(anonymous, provider, someone))
    assert by_provider["user_id"] == str(user.id)
    by_password = anonymous.post("/login", {"email": "alice@example.com", "password": PASSWORD}, format="json")
    assert by_password.status_code == 200 and by_password.json()["user_id"] == str(user.id)


def test_an_identity_connected_to_one_account_cannot_be_connected_to_another(api, provider, person, user, other):
    someone = person()
    api.credentials(HTTP_AUTHORIZATION=bearer(user))
    assert api.post(f"/users/{user.id}/identities/test", app_code(provider, someone).body(), format="json").status_code == 201
    api.credentials(HTTP_AUTHORIZATION=bearer(other))
    refused = api.post(f"/users/{other.id}/identities/test", app_code(provider, someone).body(), format="json")
    assert refused.status_code == 409
    assert ProviderIdentity.objects.get().user.id == user.id


def test_only_the_owner_connects_and_owner_or_admin_list_and_disconnect(api, provider, person, user, other, admin):
    someone = person()
    body = app_code(provider, someone).body()
    api.credentials(HTTP_AUTHORIZATION=bearer(admin))
    assert api.post(f"/users/{user.id}/identities/test", body, format="json").status_code == 403
    api.credentials(HTTP_AUTHORIZATION=bearer(other))
    assert api.post(f"/users/{user.id}/identities/test", body, format="json").status_code == 403
    assert api.get(f"/users/{user.id}/identities").status_code == 403
    api.credentials()
    assert api.get(f"/users/{user.id}/identities").status_code == 401
    api.credentials(HTTP_AUTHORIZATION=bearer(user))
    identity_id = api.post(f"/users/{user.id}/identities/test", body, format="json").json()["id"]
    api.credentials(HTTP_AUTHORIZATION=bearer(other))
    assert api.delete(f"/users/{user.id}/identities/{identity_id}").status_code == 403
    assert api.delete(f"/users/{other.id}/identities/{identity_id}").status_code == 404  # not theirs
    api.credentials(HTTP_AUTHORIZATION=bearer(admin))
    assert len(api.get(f"/users/{user.id}/identities").json()) == 1
    assert api.delete(f"/users/{user.id}/identities/{identity_id}").status_code == 204
    assert api.delete(f"/users/{user.id}/identities/{identity_id}").status_code == 404


def test_the_last_way_to_sign_in_cannot_be_disconnected_until_there_is_another(api, provider, person):
    someone = person()
    answer = api.post("/auth/providers/test/token", app_code(provider, someone).body(), format="json").json()
    user = User.objects.get(id=answer["user_id"])
    identity = ProviderIdentity.objects.get(user=user.id)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {answer['access']}")
    refused = api.delete(f"/users/{user.id}/identities/{identity.id}")
    assert refused.status_code == 409 and "last way to sign in" in refused.json()["detail"]
    assert ProviderIdentity.objects.count() == 1
    # A second identity is another way in: now the first may go (and then not the second).
    second = person()
    assert api.post(f"/users/{user.id}/identities/test", app_code(provider, second).body(), format="json").status_code == 201
    assert api.delete(f"/users/{user.id}/identities/{identity.id}").status_code == 204
    last = ProviderIdentity.objects.get(user=user.id)
    assert api.delete(f"/users/{user.id}/identities/{last.id}").status_code == 409
    # A passkey is another way in (its count rides on the user).
    User.objects(id=user.id).update_one(set__passkeys_count=1)
    with_passkey = ProviderIdentity(user=user.id, provider="test", issuer=provider.issuer, subject="extra").save()
    assert api.delete(f"/users/{user.id}/identities/{with_passkey.id}").status_code == 204
    User.objects(id=user.id).update_one(set__passkeys_count=0)
    # A password (set as a reset does) is another way in too.
    from django.contrib.auth.hashers import make_password

    User.objects(id=user.id).update_one(set__password=make_password("a new long passphrase"))
    assert api.delete(f"/users/{user.id}/identities/{last.id}").status_code == 204


def test_a_provider_login_asks_for_the_second_factor_when_it_is_on(api, provider, person, user):
    someone = person()
    api.credentials(HTTP_AUTHORIZATION=bearer(user))
    api.post(f"/users/{user.id}/identities/test", app_code(provider, someone).body(), format="json")
    secret, _ = enrol(user)
    anonymous = APIClient()
    answer = anonymous.post("/auth/providers/test/token", app_code(provider, someone).body(), format="json").json()
    assert answer["mfa_required"] is True and "access" not in answer and "totp" in answer["mfa_methods"]
    done = anonymous.post("/auth/mfa", {"mfa_token": answer["mfa_token"], "code": code_at(secret)}, format="json")
    assert done.status_code == 200 and done.json()["user_id"] == str(user.id)
    # In a browser, the fragment carries the same step, and no tokens or cookie.
    response = browser_sign_in(APIClient(), provider, someone)
    step = fragment(response)
    assert step["mfa_required"] == "true" and step["mfa_token"] and "access" not in step
    assert step["mfa_methods"].split(",") == answer["mfa_methods"]
    assert "access_token" not in response.cookies


def test_mandatory_verification_applies_to_provider_logins(api, provider, person, settings):
    settings.EMAIL_VERIFICATION = "mandatory"
    unverified = person(email_verified=False)
    refused = api.post("/auth/providers/test/token", app_code(provider, unverified).body(), format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "email_not_verified"
    assert User.objects.get(email_key=unverified.email.lower()).email_verified is False
    verified = person(email_verified=True)
    assert api.post("/auth/providers/test/token", app_code(provider, verified).body(), format="json").status_code == 200


def test_the_lock_out_applies_to_provider_logins(api, provider, person, settings):
    from accounts.users import lockout

    someone = person()
    user_id = api.post("/auth/providers/test/token", app_code(provider, someone).body(), format="json").json()["user_id"]
    user = User.objects.get(id=user_id)
    for n in range(settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT):  # from many addresses: the account's ceiling
        lockout.login_attempt_reserve(email_key=user.email_key, ip=f"198.51.{n // 250}.{n % 250 + 1}", user_id=user.id)
    refused = api.post("/auth/providers/test/token", app_code(provider, someone).body(), format="json")
    assert refused.status_code == 429 and "Retry-After" in refused


def test_a_trashed_account_cannot_sign_in_through_its_provider(api, provider, person):
    someone = person()
    user_id = api.post("/auth/providers/test/token", app_code(provider, someone).body(), format="json").json()["user_id"]
    User.objects(id=user_id).update_one(set__in_trash=True)
    refused = api.post("/auth/providers/test/token", app_code(provider, someone).body(), format="json")
    assert refused.status_code == 401


def test_next_must_be_this_site_or_an_allowed_origin(api, provider, person, settings):
    for bad in ("https://evil.example/steal", "//evil.example/x", "javascript:alert(1)", "/\\evil.example"):
        response = api.get("/auth/providers/test/redirect", {"next": bad})
        assert response.status_code == 400, bad
        assert "next" in response.json()
    settings.OIDC_ALLOWED_NEXT_ORIGINS = ["https://app.example.com"]
    response = browser_sign_in(api, provider, person(), next_url="https://app.example.com/signed-in")
    assert response["Location"].startswith("https://app.example.com/signed-in#")
    assert fragment(response)["access"]
    assert "access_token" not in response.cookies  # another site: tokens in the fragment only


def test_an_unreachable_provider_is_a_502(api, settings):
    settings.OIDC_PROVIDERS = [{"id": "down", "issuer": "http://127.0.0.1:9/nothing", "client_id": "c", "client_secret": "s"}]
    response = api.get("/auth/providers/down/redirect")
    assert response.status_code == 502 and response.json()["detail"]
    body = {"code": "x", "code_verifier": "v" * 43, "redirect_uri": "http://127.0.0.1:9/app/callback"}
    assert api.post("/auth/providers/down/token", body, format="json").status_code == 502


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"code": "x", "code_verifier": "short", "redirect_uri": "http://a.example/cb"},
        {"code": "x", "code_verifier": "v" * 43, "redirect_uri": "not a url"},
        {"code": ["x"], "code_verifier": "v" * 43, "redirect_uri": "http://a.example/cb"},
    ],
)
def test_bad_bodies_are_400s(api, provider, body):
    assert api.post("/auth/providers/test/token", body, format="json").status_code == 400


def test_options_describe_every_endpoint(api, provider, user):
    for path in ("/auth/providers", "/auth/providers/test/redirect", "/auth/providers/test/callback", "/auth/providers/test/token"):
        assert api.options(path).status_code == 200, path
    assert api.options("/auth/providers/6b1026d1c17863479e680e70/token").status_code == 200
    api.credentials(HTTP_AUTHORIZATION=bearer(user))
    for path in (f"/users/{user.id}/identities", f"/users/{user.id}/identities/test", f"/users/{user.id}/identities/6b1026d1c17863479e680e70"):
        assert api.options(path).status_code == 200, path
