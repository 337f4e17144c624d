"""Regressions found by schemathesis against the live server."""
from accounts.sessions.tokens import token_pair_for


def test_options_on_a_user_route_describes_it(client_for, user):
    for path in (f"/users/{user.id}/avatar/", f"/users/{user.id}", f"/users/{user.id}/export"):
        r = client_for(user).options(path)
        assert r.status_code == 200, (path, r.content[:200])
        assert r.json()["name"]


def test_options_for_a_stranger_is_403_not_500(client_for, user, other):
    assert client_for(other).options(f"/users/{user.id}/avatar/").status_code in (200, 403)


def test_unsafe_request_to_an_unknown_path_with_cookies_is_a_json_404(client_for, user):
    client = client_for(user)
    client.cookies["access_token"] = str(token_pair_for(user).access_token)
    client.cookies["csrftoken"] = "x" * 32
    r = client.patch("/users/not-an-id/", {"username": "zzz"}, format="json")
    assert r.status_code == 404
    assert r.json() == {"detail": "Not found."}


def test_every_operation_with_a_body_documents_415(api):
    import yaml

    schema = yaml.safe_load(api.get("/api/schema/").content)
    with_body = [(path, method) for path, item in schema["paths"].items() for method, op in item.items() if "requestBody" in op]
    assert len(with_body) >= 10
    for path, method in with_body:
        assert "415" in schema["paths"][path][method]["responses"], (path, method)
    r = api.post("/users/register", "username=x", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415 and "detail" in r.json()
