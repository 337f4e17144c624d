"""Database round trips per request, for every endpoint, against a budget.

The budgets are the table in README.md ("Round trips per request"). Run with `-s` to print the
measured figures. Index creation, done once per process by MongoEngine, is not counted.
"""
import io
from datetime import timedelta

import pytest
from bson import ObjectId
from PIL import Image

from accounts import mail
from accounts.services import email_tokens
from accounts.services.linked_ids import linked_id_add
from accounts.services.tokens import token_pair_for
from accounts.services.trash import user_trash
from profiles.services import avatar_replace, details_upsert
from tests.conftest import PASSWORD

# (name, caller, method, path, body, budget). `{id}` is the user's id, `{other}` a trashed user's.
CASES = [
    ("register", None, "post", "/users/register", {"username": "newbie", "email": "newbie@example.com", "password": PASSWORD}, 2),
    ("login", None, "post", "/login", {"email": "alice@example.com", "password": PASSWORD}, 3),
    ("refresh", None, "post", "/auth/refresh", "REFRESH", 2),
    ("logout", None, "post", "/auth/logout", "REFRESH", 3),
    ("link_id", "user", "post", "/users/link_id", {"user_id": "{id}", "linked_id": "ext-2"}, 2),
    ("add_details", "user", "post", "/users/add_details", {"user_id": "{id}", "phone": "+15551234567"}, 2),
    # One: authentication reads the caller together with the join's lookups (issue 16).
    ("user_with_details", "user", "get", "/users/user_with_details/{id}", None, 1),
    ("user_with_details (admin)", "admin", "get", "/users/user_with_details/{id}", None, 2),
    ("me", "user", "get", "/users/me", None, 1),
    ("get user", "user", "get", "/users/{id}", None, 2),
    ("patch user", "user", "patch", "/users/{id}", {"username": "alice two"}, 3),
    # 5: the lock-out's counters are read first (a wrong current password counts as a failed login),
    # and a pending reset token is voided.
    ("password", "user", "post", "/users/{id}/password", {"current_password": PASSWORD, "new_password": "fresh river stone"}, 5),
    ("export", "user", "get", "/users/{id}/export", None, 9),
    ("unlink", "user", "delete", "/users/{id}/linked_ids/ext-1", None, 2),
    ("trash (soft delete)", "user", "delete", "/users/{id}?reason=leaving", None, 4),
    ("delete_user", "user", "delete", "/users/delete_user/{id}", None, 14),
    ("list users", "admin", "get", "/users?per_page=30", None, 3),
    ("search users", "admin", "get", "/users?q=ali", None, 3),
    ("by_linked_id", "admin", "get", "/users/by_linked_id/ext-1", None, 4),
    ("trash list", "admin", "get", "/trash", None, 3),
    ("bulk_delete", "admin", "post", "/trash/bulk_delete", {"ids": ["{id}", str(ObjectId())], "reason": "bulk"}, 5),
    ("restore", "admin", "post", "/trash/{other}/restore", None, 6),
    ("purge", "admin", "delete", "/trash/{other}", None, 16),
    ("avatar put", "user", "put", "/users/{id}/avatar", "IMAGE", 8),
    ("avatar get", "user", "get", "/users/{id}/avatar", "WITH_AVATAR", 4),
    ("avatar delete", "user", "delete", "/users/{id}/avatar", "WITH_AVATAR", 6),
    ("health", None, "get", "/health", None, 1),
    ("email verify", None, "post", "/auth/email/verify", "VERIFY_TOKEN", 4),
    ("email resend", "user", "post", "/auth/email/resend", None, 2),
    # The request itself costs none; the queued job looks the address up and writes the token.
    ("password reset", None, "post", "/auth/password/reset", {"email": "alice@example.com"}, 3),
    ("reset confirm", None, "post", "/auth/password/reset/confirm", "RESET_TOKEN", 6),
]


def png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "teal").save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "me.png"
    return buffer


def fill(text, ids):
    if isinstance(text, str):
        return text.replace("{id}", ids["id"]).replace("{other}", ids["other"])
    if isinstance(text, dict):
        return {k: fill(v, ids) for k, v in text.items()}
    if isinstance(text, list):
        return [fill(v, ids) for v in text]
    return text


@pytest.mark.parametrize("name,caller,method,path,body,budget", CASES, ids=[c[0] for c in CASES])
def test_round_trips_within_budget(name, caller, method, path, body, budget, user, other, admin, client_for, round_trips):
    linked_id_add(user=user, linked_id="ext-1")
    details_upsert(user=user, address="somewhere")
    user_trash(user=other, actor=admin, reason="test")
    ids = {"id": str(user.id), "other": str(other.id)}
    kwargs = {"format": "json"}
    if body == "REFRESH":
        body = {"refresh": str(token_pair_for(user))}
    elif body == "IMAGE":
        body, kwargs = {"file": png()}, {"format": "multipart"}
    elif body in ("VERIFY_TOKEN", "RESET_TOKEN"):
        purpose = email_tokens.VERIFY if body == "VERIFY_TOKEN" else email_tokens.RESET
        token = email_tokens.token_issue(user_id=user.id, purpose=purpose, email=user.email, lifetime=timedelta(hours=1))
        body = {"token": token} if body == "VERIFY_TOKEN" else {"token": token, "new_password": "fresh river stone"}
    elif body == "WITH_AVATAR":
        avatar_replace(user=user, upload=png())
        body = None
    client = client_for({"user": user, "admin": admin, None: None}[caller])
    client.get("/health")  # MongoEngine creates indexes on first use; keep that out of the count
    with round_trips() as n:
        response = getattr(client, method)(fill(path, ids), fill(body, ids), **kwargs)
        mail.queue_wait(timeout=30)  # work the request queued counts as its own
    assert response.status_code < 300, (name, response.status_code, response.content[:300])
    print(f"{name:<22} {n.count:>3}  (budget {budget})  {n.commands}")
    assert n.count <= budget, (name, n.count, n.commands)
