"""POST /login: 200 `{"message": "Login successful", "user_id", "access", "refresh"}`; every
failure the same 401 `{"detail": "Invalid email or password."}` (API.md)."""
import pytest
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher

from accounts.users.documents import LoginFailure, User
from accounts.admin.trash import user_trash
from accounts.user_data.services import user_delete
from tests.conftest import PASSWORD
from tests.helpers_http import assert_no_password_material, login

INVALID = {"detail": "Invalid email or password."}


# --- success ----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/login", "/login/"])
def test_login_answers_tokens_under_simplejwt_keys(api, user, path):
    r = login(api, path=path)

    assert r.status_code == 200, r.content
    body = r.json()
    assert set(body) == {"message", "user_id", "access", "refresh"}
    assert body["message"] == "Login successful"
    assert body["user_id"] == str(user.id)
    assert body["access"] != body["refresh"]
    assert_no_password_material(r, extra=(PASSWORD, user.password))


def test_the_access_token_signs_requests_in_and_the_refresh_token_rotates(api, user):
    tokens = login(api).json()

    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    me = api.get("/users/me")
    assert me.status_code == 200 and me.json()["user"]["_id"] == str(user.id)
    api.credentials()
    r = api.post("/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert r.status_code == 200 and set(r.json()) == {"access", "refresh"}


def test_the_email_is_matched_ignoring_case(api, user):
    r = login(api, email="ALICE@Example.COM")
    assert r.status_code == 200 and r.json()["user_id"] == str(user.id)


# --- every failure is the same 401 -------------------------------------------------------------
def test_wrong_password_unknown_email_trashed_inactive_and_deleted_answer_alike(api, user, make_user, admin):
    trashed = make_user("trashed", "trashed@example.com")
    user_trash(user=trashed, actor=admin, reason="test")
    inactive = make_user("inactive", "inactive@example.com")
    User.objects(id=inactive.id).update_one(set__is_active=False)
    deleted = make_user("deleted", "deleted@example.com")
    user_delete(user=deleted, actor=admin, reason="test")

    answers = {
        "wrong password": login(api, password="not-the-password-at-all"),
        "unknown email": login(api, email="nobody@example.com"),
        "trashed": login(api, email="trashed@example.com"),
        "inactive": login(api, email="inactive@example.com"),
        "deleted": login(api, email="deleted@example.com"),
    }

    for label, r in answers.items():
        assert r.status_code == 401, (label, r.content)
        assert r.json() == INVALID, label
        assert r.has_header("WWW-Authenticate"), label
    assert len({r.content for r in answers.values()}) == 1


def test_a_failed_login_issues_no_token(api, user):
    r = login(api, password="not-the-password-at-all")
    assert r.status_code == 401
    assert "access" not in r.json() and "refresh" not in r.json()


def test_an_unknown_email_still_runs_the_hasher_as_a_wrong_password_does(api, user, monkeypatch):
    """So that the answer's timing does not tell which emails exist (Django's ModelBackend does the same)."""
    calls = []
    original = MD5PasswordHasher.encode

    def counting(self, password, salt):
        calls.append(1)
        return original(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting)

    assert login(api, password="not-the-password-at-all").status_code == 401
    wrong_password = len(calls)
    calls.clear()
    assert login(api, email="nobody@example.com").status_code == 401
    unknown_email = len(calls)

    assert wrong_password >= 1
    assert unknown_email == wrong_password, f"hashes run: wrong password {wrong_password}, unknown email {unknown_email}"


# --- input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD}, "email"),
        ({"email": "alice@example.com"}, "password"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "alice@example.com", "password": ""}, "password"),
        ({"email": "alice@example.com", "password": "x" * 1025}, "password"),
    ],
)
def test_invalid_input_is_400_on_the_field(api, user, body, field):
    r = api.post("/login", body, format="json")
    assert r.status_code == 400, r.content
    assert list(r.json()) == [field]


# --- throttling -------------------------------------------------------------------------------
def test_repeated_failures_are_throttled_even_for_the_right_password(api, user):
    limit = settings.LOGIN_FAILURE_LIMIT
    for n in range(limit):
        r = login(api, password=f"wrong-password-{n}")
        assert r.status_code == 401, (n, r.content)

    r = login(api)

    assert r.status_code == 429, r.content
    assert set(r.json()) == {"detail"}
    assert int(r["Retry-After"]) >= 1
    assert "access" not in r.json()


def test_a_successful_login_clears_the_accounts_failures(api, user):
    limit = settings.LOGIN_FAILURE_LIMIT
    for n in range(limit - 1):
        assert login(api, password=f"wrong-password-{n}").status_code == 401
    assert login(api).status_code == 200

    for n in range(limit - 1):
        assert login(api, password=f"wrong-again-{n}").status_code == 401, n
    assert login(api).status_code == 200


def test_failures_are_counted_for_the_account_in_the_database(api, user):
    login(api, password="not-the-password-at-all")
    login(api, password="not-the-password-at-all")

    account = LoginFailure.objects(user=user.id).first()
    assert account is not None and account.count == 2
