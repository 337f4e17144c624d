"""Regressions found by schemathesis against the live server."""
from accounts import services


def test_options_on_a_user_route_describes_it(client_for, user):
    for path in (f"/users/{user.id}/avatar/", f"/users/{user.id}", f"/users/{user.id}/export"):
        r = client_for(user).options(path)
        assert r.status_code == 200, (path, r.content[:200])
        assert r.json()["name"]


def test_options_for_a_stranger_is_403_not_500(client_for, user, other):
    assert client_for(other).options(f"/users/{user.id}/avatar/").status_code in (200, 403)


def test_unsafe_request_to_an_unknown_path_with_cookies_is_a_json_404(client_for, user):
    client = client_for(user)
    client.cookies["access_token"] = str(services.token_pair_for(user).access_token)
    client.cookies["csrftoken"] = "x" * 32
    r = client.patch("/users/not-an-id/", {"username": "zzz"}, format="json")
    assert r.status_code == 404
    assert r.json() == {"detail": "Not found."}
