"""POST /auth/refresh (rotation), POST /auth/logout, and revocation at once."""
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.conf import settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.sessions.documents import Session
from accounts.users.documents import User
from accounts.sessions.tokens import token_pair_for, token_refresh
from accounts.admin.trash import user_trash
from accounts.user_data.services import user_delete
from tests.conftest import PASSWORD
from tests.helpers_http import login_tokens


def test_refresh_rotates_and_revokes_the_old_token(api, user):
    tokens = login_tokens(api, user.email)
    r = api.post("/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert r.status_code == 200
    assert set(r.json()) == {"access", "refresh"}
    assert r.json()["refresh"] != tokens["refresh"]
    # The session now expects the new refresh token, and the new access token works.
    session = Session.objects.get(id=RefreshToken(tokens["refresh"])["sid"])
    assert session.refresh_jti == RefreshToken(r.json()["refresh"])["jti"]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['access']}")
    assert api.get("/users/me").status_code == 200
    # The old one again is a reuse: 401, and the whole session ends (see test_sessions.py).
    again = api.post("/auth/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert again.status_code == 401


def test_concurrent_refreshes_of_one_token_have_exactly_one_winner(user):
    raw = str(token_pair_for(user))

    def attempt(_):
        try:
            token_refresh(raw_refresh=raw)
            return "ok"
        except Exception as exc:  # noqa: BLE001 - the losers must fail with a 401
            return getattr(exc, "status_code", repr(exc))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(16)))
    assert results.count("ok") == 1, results
    assert set(results) == {"ok", 401}


@pytest.mark.parametrize("body", [{}, {"refresh": ""}, {"refresh": "not-a-jwt"}, {"refresh": 12}, {"refresh": "a.b.c"}])
def test_refresh_with_bad_input_is_400_or_401(api, body):
    r = api.post("/auth/refresh", body, format="json")
    assert r.status_code in (400, 401), r.content
    assert r.json()


def test_an_access_token_is_not_a_refresh_token(api, user):
    access = str(token_pair_for(user).access_token)
    assert api.post("/auth/refresh", {"refresh": access}, format="json").status_code == 401


def test_expired_refresh_token_is_401(api, user):
    token = token_pair_for(user)
    token.set_exp(lifetime=-timedelta(minutes=1))  # past the JWT leeway too
    r = api.post("/auth/refresh", {"refresh": str(token)}, format="json")
    assert r.status_code == 401
    assert "WWW-Authenticate" in r


def test_logout_revokes_the_refresh_token(api, user):
    tokens = login_tokens(api, user.email)
    r = api.post("/auth/logout", {"refresh": tokens["refresh"]}, format="json")
    assert r.status_code == 204
    assert api.post("/auth/refresh", {"refresh": tokens["refresh"]}, format="json").status_code == 401
    assert api.post("/auth/logout", {"refresh": tokens["refresh"]}, format="json").status_code == 401


@pytest.mark.parametrize(
    "what_happens",
    [
        lambda user, admin: user_delete(user=user, actor=user, reason="test"),
        lambda user, admin: user_trash(user=user, actor=admin, reason="spam"),
        lambda user, admin: User.objects(id=user.id).update_one(set__is_active=False),
    ],
    ids=["deleted", "trashed", "deactivated"],
)
def test_tokens_fail_at_once_when_the_user_goes(api, user, admin, what_happens):
    tokens = login_tokens(api, user.email)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    join = f"/users/user_with_details/{user.id}"  # the caller is read with the join's lookups
    assert api.get(join).status_code == 200
    what_happens(user, admin)
    assert api.get("/users/me").status_code == 401
    assert api.get(join).status_code == 401
    assert api.post("/auth/refresh", {"refresh": tokens["refresh"]}, format="json").status_code == 401


def test_password_change_revokes_every_token_access_included(api, user, client_for):
    first = login_tokens(api, user.email)
    second = login_tokens(api, user.email)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {first['access']}")
    r = api.post(f"/users/{user.id}/password", {"current_password": PASSWORD, "new_password": "a whole new passphrase"}, format="json")
    assert r.status_code == 204, r.content
    for tokens in (first, second):
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        assert api.get("/users/me").status_code == 401
        assert api.post("/auth/refresh", {"refresh": tokens["refresh"]}, format="json").status_code == 401
    fresh = login_tokens(api, user.email, "a whole new passphrase")
    assert fresh["user_id"] == str(user.id)


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer not.a.token", "Bearer a b", "Token abc", "Bearer " + "x" * 5000],
)
def test_malformed_authorization_headers_are_401(api, header):
    r = api.get("/users/me", HTTP_AUTHORIZATION=header)
    assert r.status_code == 401


def test_token_naming_a_malformed_or_missing_user_is_401(api, user):
    for user_id in ("not-an-object-id", "0" * 24):
        token = token_pair_for(user).access_token
        token["user_id"] = user_id
        assert api.get("/users/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_an_access_token_verified_before_is_refused_once_it_expires(api, user):
    # Authentication remembers tokens it has verified (accounts.sessions.authentication._checked_token);
    # expiry must still be checked on every use.
    # Valid for one more second, the JWT leeway (clock skew between hosts) included.
    leeway = settings.JWT_LEEWAY_SECONDS
    token = token_pair_for(user).access_token
    token.set_exp(lifetime=timedelta(seconds=1 - leeway))
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/users/me").status_code == 200
    time.sleep(max(0.0, token["exp"] + leeway - time.time()) + 0.05)
    r = api.get("/users/me")
    assert r.status_code == 401, r.content
    assert r.json()["code"] == "token_not_valid"
