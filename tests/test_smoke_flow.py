"""The whole seed flow over HTTP, as a new user would walk it."""


def test_register_login_link_details_join_delete(api):
    r = api.post("/users/register", {"username": "sandesh bhujbal", "email": "sandesh@gmail.com", "password": "Tr0ub4dor&3x"}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["message"] == "User registered successfully"
    user_id = r.json()["user_id"]

    r = api.post("/login", {"email": "sandesh@gmail.com", "password": "Tr0ub4dor&3x"}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["message"] == "Login successful" and body["user_id"] == user_id
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")

    r = api.post("/users/link_id", {"user_id": user_id, "linked_id": "ext-42"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json() == {"message": "ID linked successfully", "linked_id": "ext-42"}

    r = api.post("/users/add_details/", {"user_id": user_id, "address": "1 Main St", "phone": "+919876543210", "preferences": {"theme": "dark"}}, format="json")
    assert r.status_code == 200, r.content
    assert r.json() == {"message": "Details added/updated successfully"}

    r = api.get(f"/users/user_with_details/{user_id}")
    assert r.status_code == 200, r.content
    joined = r.json()
    assert joined["user"]["_id"] == user_id
    assert joined["user"]["linked_id"] == "ext-42"
    assert joined["details"]["phone"] == "+919876543210"
    assert "password" not in r.content.decode()

    r = api.delete(f"/users/delete_user/{user_id}")
    assert r.status_code == 200, r.content
    assert r.json() == {"message": "User and associated data deleted successfully"}
    r = api.get(f"/users/user_with_details/{user_id}")
    assert r.status_code == 401
