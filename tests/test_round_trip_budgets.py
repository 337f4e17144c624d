"""Database round trips per request, for every endpoint, against ONE budget table (CASES).

Counted at the driver boundary (tests/roundtrips.py): on a server (TEST_MONGODB_URI, as CI's
wire run) by a pymongo CommandListener, on mongomock at its collection methods; the budgets hold
on both. README.md ("Round trips per request") shows this table with the wire figures, and
`test_the_readme_shows_these_budgets` keeps the two equal. Run with `-s` to print the figures.
Index creation, done once per process by MongoEngine, is not counted.
"""
import io
from datetime import timedelta
import re
from pathlib import Path

import pytest
from bson import ObjectId
from PIL import Image

from accounts.events import outbox
from accounts.events.documents import OutboxJob
from accounts.events.webhooks import webhook_create
from accounts.mfa.passkeys.tests import round_trip_cases as passkey_cases
from accounts.emails import email_tokens
from accounts.users.linked_ids import linked_id_add
from accounts.sessions.tokens import token_pair_for
from accounts.admin.trash import user_trash
from accounts.mfa import two_factor
from accounts.user_data.services import users_chain_delete
from profiles import services as profile_services
from profiles.services import avatar_replace, details_upsert
from tests.conftest import PASSWORD
from tests.oidc_provider.fixtures import CALLBACK, PERSON_PASSWORD, app_code
from tests.oidc_provider.fixtures import person, provider, test_provider  # noqa: F401  (fixtures)
from tests.two_factor_helpers import code_at, enrol

# (name, caller, method, path, body, budget). `{id}` is the user's id, `{other}` a trashed user's.
# A throttled endpoint (register, login, refresh, logout, a PATCH naming a username or email, the
# email endpoints) spends one round trip on its rate limit: one conditional write that counts the
# hit in MongoDB, shared by every process (common/throttling.py). POST /login counts its hit in the
# same `bulkWrite` as its lock-out's counters (common/throttling.py's DeferredThrottle).
CASES = [
    ("register", None, "post", "/users/register", {"username": "newbie", "email": "newbie@example.com", "password": PASSWORD}, 4),
    ("login", None, "post", "/login", {"email": "alice@example.com", "password": PASSWORD}, 3),
    ("refresh", None, "post", "/auth/refresh", "REFRESH", 3),
    ("logout", None, "post", "/auth/logout", "REFRESH", 6),
    # The LinkedId, its copy on the user (the owner check too), and the re-check against a racing unlink (issue 26).
    ("link_id", "user", "post", "/users/link_id", {"user_id": "{id}", "linked_id": "ext-2"}, 4),
    # The Details document, read back, then its copy on the user (the owner check too).
    ("add_details", "user", "post", "/users/add_details", {"user_id": "{id}", "phone": "+15551234567"}, 4),
    # One: authentication reads the caller, whose document carries the join's copies (issue 26).
    ("user_with_details", "user", "get", "/users/user_with_details/{id}", None, 1),
    ("user_with_details (admin)", "admin", "get", "/users/user_with_details/{id}", None, 2),
    ("me", "user", "get", "/users/me", None, 1),
    ("get user", "user", "get", "/users/{id}", None, 2),
    ("patch user", "user", "patch", "/users/{id}", {"username": "alice two"}, 6),
    # 7: the caller's `reauth` rate, then the lock-out's counters are read (a wrong current
    # password counts as a failed login); ending the sessions joins the password's write, their
    # documents go after, and a pending reset token is voided.
    ("password", "user", "post", "/users/{id}/password", {"current_password": PASSWORD, "new_password": "fresh river stone"}, 12),
    ("export", "user", "get", "/users/{id}/export", None, 16),
    ("unlink", "user", "delete", "/users/{id}/linked_ids/ext-1", None, 3),
    # 6: + voiding the pending email tokens (a reset link must not work after a restore).
    ("trash (soft delete)", "user", "delete", "/users/{id}?reason=leaving", None, 10),
    ("delete_user", "user", "delete", "/users/delete_user/{id}", None, 24),
    ("list users", "admin", "get", "/users?per_page=30", None, 4),
    ("search users", "admin", "get", "/users?q=ali", None, 4),
    ("list users (cursor)", "admin", "get", "/users?cursor=&per_page=30", None, 11),
    ("search users (starts_with)", "admin", "get", "/users?starts_with=ali", None, 5),
    ("by_linked_id", "admin", "get", "/users/by_linked_id/ext-1", None, 4),
    ("trash list", "admin", "get", "/trash", None, 4),
    ("bulk_delete", "admin", "post", "/trash/bulk_delete", {"ids": ["{id}", str(ObjectId())], "reason": "bulk"}, 11),
    ("restore", "admin", "post", "/trash/{other}/restore", None, 10),
    ("purge", "admin", "delete", "/trash/{other}", None, 26),
    ("avatar put", "user", "put", "/users/{id}/avatar", "IMAGE", 8),
    ("avatar get", "user", "get", "/users/{id}/avatar", "WITH_AVATAR", 4),
    ("avatar delete", "user", "delete", "/users/{id}/avatar", "WITH_AVATAR", 6),
    ("sessions", "user", "get", "/users/{id}/sessions", None, 2),
    ("end a session", "user", "delete", "/users/{id}/sessions/{sid}", None, 7),
    ("end other sessions", "user", "delete", "/users/{id}/sessions", None, 7),
    ("totp start", "user", "post", "/users/{id}/mfa/totp", {"current_password": PASSWORD}, 7),
    ("totp off", "user", "delete", "/users/{id}/mfa/totp", {"current_password": PASSWORD}, 11),
    ("mfa reset (admin)", "admin", "delete", "/users/{id}/mfa", None, 8),
    ("totp confirm", "user", "post", "/users/{id}/mfa/totp/confirm", "TOTP_PENDING", 9),
    ("recovery codes", "user", "post", "/users/{id}/mfa/recovery_codes", "MFA_ON", 9),
    ("second factor", None, "post", "/auth/mfa", "MFA_TOKEN", 12),
    ("health", None, "get", "/health", None, 1),
    # The public keys and the discovery document are read from settings: no database.
    ("jwks", None, "get", "/.well-known/jwks.json", None, 0),
    ("openid configuration", None, "get", "/.well-known/openid-configuration", None, 0),
    # One durable write (an upsert waiting for the journal), never only a ping.
    ("ready", None, "get", "/ready", None, 1),
    ("email verify", None, "post", "/auth/email/verify", "VERIFY_TOKEN", 7),
    ("email resend", "user", "post", "/auth/email/resend", None, 4),
    # The request itself costs its rate limit's hit; the queued job looks the address up, counts the
    # account's reset-mail cap and writes the token.
    ("password reset", None, "post", "/auth/password/reset", {"email": "alice@example.com"}, 2),
    ("reset confirm", None, "post", "/auth/password/reset/confirm", "RESET_TOKEN", 11),
    # Provider sign-in (accounts/providers), against the test provider: HTTP to the provider is
    # not a round trip; each step that reaches the provider spends one on its rate limit. The
    # sign-ins are a person's first (an account is made): register's writes and the login's, plus
    # the identity's lookup and insert, and one insert of the jobs user.created and identity.linked
    # (with the verification mail's when the provider did not vouch for the email).
    ("providers", None, "get", "/auth/providers", None, 0),
    ("provider redirect", None, "get", "/auth/providers/{provider}/redirect", "PROVIDER", 2),
    ("provider callback", None, "get", "/auth/providers/{provider}/callback", "PROVIDER_CALLBACK", 16),
    ("provider token", None, "post", "/auth/providers/{provider}/token", "PROVIDER_CODE", 14),
    ("identities", "user", "get", "/users/{id}/identities", None, 2),
    ("connect identity", "user", "post", "/users/{id}/identities/{provider}", "PROVIDER_CODE", 6),
    ("disconnect identity", "user", "delete", "/users/{id}/identities/{identity_id}", "IDENTITY", 6),
    # Webhooks and erasure receipts (admin; accounts/events/).
    ("webhook create", "admin", "post", "/webhooks", {"url": "https://93.184.215.14/hooks", "events": ["*"]}, 2),
    ("webhooks list", "admin", "get", "/webhooks", None, 2),
    ("webhook get", "admin", "get", "/webhooks/{webhook}", None, 2),
    ("webhook change", "admin", "patch", "/webhooks/{webhook}", {"description": "the CRM"}, 4),
    ("webhook delete", "admin", "delete", "/webhooks/{webhook}", None, 5),
    ("webhook deliveries", "admin", "get", "/webhooks/{webhook}/deliveries", None, 3),
    ("deletion receipts", "admin", "get", "/deletions/{deleted}", None, 4),
    *passkey_cases.CASES,  # accounts/mfa/passkeys/tests/round_trip_cases.py (bodies need a ceremony)
]
BUDGET = {case[0]: case[-1] for case in CASES}


def png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "teal").save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "me.png"
    return buffer


def fill(text, ids):
    if isinstance(text, str):
        text = text.replace("{id}", ids["id"]).replace("{other}", ids["other"]).replace("{sid}", ids["sid"]).replace("{identity_id}", ids.get("identity_id", "")).replace("{provider}", "test")
        return text.replace("{webhook}", ids.get("webhook", "")).replace("{deleted}", ids.get("deleted", ""))
    if isinstance(text, dict):
        return {k: fill(v, ids) for k, v in text.items()}
    if isinstance(text, list):
        return [fill(v, ids) for v in text]
    return text


@pytest.mark.parametrize("name,caller,method,path,body,budget", CASES, ids=[c[0] for c in CASES])
def test_round_trips_within_budget(name, caller, method, path, body, budget, user, other, admin, client_for, round_trips, request):
    linked_id_add(user=user, linked_id="ext-1")
    details_upsert(user=user, address="somewhere")
    user_trash(user=other, actor=admin, reason="test")
    ids = {"id": str(user.id), "other": str(other.id), "sid": token_pair_for(user)["sid"]}
    if "{webhook}" in path or "{deleted}" in path:  # an endpoint, and a chain-deleted user with its receipt
        ids["webhook"] = str(webhook_create(url="https://93.184.215.14/hooks", events=["*"])[0].id)
        gone = request.getfixturevalue("make_user")("gone soon", "gone@example.com")
        users_chain_delete(user_ids=[gone.id], actor_id=admin.id, reason="test")
        while (job := outbox.job_claim(OutboxJob)) is not None:  # the fan-outs only: receipts, not yet tried
            outbox.job_run(OutboxJob, outbox._outbox_handle, job)
        ids["deleted"] = str(gone.id)
    kwargs = {"format": "json"}
    if body == "REFRESH":
        body = {"refresh": str(token_pair_for(user))}
    elif body == "IMAGE":
        body, kwargs = {"file": png()}, {"format": "multipart"}
    elif body in ("VERIFY_TOKEN", "RESET_TOKEN"):
        purpose = email_tokens.VERIFY if body == "VERIFY_TOKEN" else email_tokens.RESET
        token = email_tokens.token_issue(user_id=user.id, purpose=purpose, email=user.email, lifetime=timedelta(hours=1))
        body = {"token": token} if body == "VERIFY_TOKEN" else {"token": token, "new_password": "fresh river stone"}
    elif body == "TOTP_PENDING":
        secret, _ = two_factor.totp_enrol_start(user=user, current_password=PASSWORD)
        body = {"code": code_at(secret, steps=-1)}
    elif body == "MFA_ON":
        enrol(user)
        body = {"current_password": PASSWORD}
    elif body == "MFA_TOKEN":
        secret, _ = enrol(user)
        body = {"mfa_token": two_factor.mfa_token_issue(user=user), "code": code_at(secret)}
    elif body == "WITH_AVATAR":
        avatar_replace(user=user, upload=png())
        body = None
    elif body == "IDENTITY":
        from accounts.providers.documents import ProviderIdentity

        ids["identity_id"] = str(ProviderIdentity(user=user.id, provider="test", issuer="http://issuer.example", subject="s").save().id)
        body = None
    elif body in ("PROVIDER", "PROVIDER_CODE", "PROVIDER_CALLBACK"):
        test_provider = request.getfixturevalue("provider")
        someone = request.getfixturevalue("person")()
        body = app_code(test_provider, someone).body() if body == "PROVIDER_CODE" else None
    client = client_for({"user": user, "admin": admin, None: None}[caller])
    if isinstance(body, str) and body.startswith(("PASSKEY", "WITH_PASSKEY")):
        path, body = passkey_cases.passkey_case(body, path=path, user=user, client=client)
    client.get("/health")  # MongoEngine creates indexes on first use; keep that out of the count
    if path.endswith("/callback"):  # the browser's way there: the service's redirect, the provider's form
        started = client.get("/auth/providers/test/redirect")
        back = test_provider.sign_in(started["Location"], username=someone.username, password=PERSON_PASSWORD, stop_at=CALLBACK)
        path = back.split("testserver", 1)[1]
    with round_trips() as n:
        response = getattr(client, method)(fill(path, ids), fill(body, ids), **kwargs)
    assert response.status_code < 300 or (response.status_code == 302 and "error" not in response["Location"]), (
        name,
        response.status_code,
        response.content[:300],
    )
    print(f"{name:<22} {n.count:>3}  (budget {budget})  {n.commands}")
    assert n.count <= budget, (name, n.count, n.commands)


def test_the_readme_shows_these_budgets():
    """README.md's table has a row per case, `| name | request | wire | budget |`, with this budget."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for name, budget in BUDGET.items():
        row = re.search(rf"^\| {re.escape(name)} \|.*\| (\d+)[^|]* \| (\d+) \|$", readme, re.M)
        assert row, f"README.md has no round-trip row for {name!r}"
        assert int(row.group(2)) == budget, f"README.md gives {name!r} the budget {row.group(2)}, the table {budget}"
        assert int(row.group(1)) <= budget, f"README.md promises {name!r} {row.group(1)} round trips, over its budget"


# --- Costs that must not grow with the data ---------------------------------------------------
@pytest.fixture
def warm(api):
    """MongoEngine creates indexes on a collection's first use; keep that out of the counts."""
    api.get("/health")
    return api


def measure(round_trips, label, call):
    with round_trips() as n:
        response = call()
    print(f"\n{label}: {n.count} round trips {n.commands}")
    return response, n


def test_user_with_details_costs_the_same_whatever_the_number_of_linked_ids(warm, client_for, make_user, round_trips):
    figures = {}
    for links in (0, 1, 20):
        person = make_user()
        for k in range(links):
            linked_id_add(user=person, linked_id=f"{person.username}-{k}")
        profile_services.details_upsert(user=person, address="somewhere", preferences={"a": 1})
        client = client_for(person)
        r, n = measure(round_trips, f"user_with_details ({links} linked ids)", lambda: client.get(f"/users/user_with_details/{person.id}"))
        assert r.status_code == 200 and len(r.json()["user"]["linked_ids"]) == links
        figures[links] = (n.count, n.commands)

    assert all(count <= BUDGET["user_with_details"] for count, _ in figures.values()), f"user_with_details: {figures}"
    assert len({count for count, _ in figures.values()}) == 1, f"user_with_details depends on the linked ids: {figures}"


def _loaded_user(make_user, api, *, links: int):
    person = make_user()
    for k in range(links):
        linked_id_add(user=person, linked_id=f"{person.username}-{k}")
    profile_services.details_upsert(user=person, address="somewhere")
    api.post("/login", {"email": person.email, "password": "wrong-password-here"}, format="json")
    return person


def test_delete_user_costs_the_same_for_1_and_20_linked_ids(warm, client_for, make_user, round_trips):
    figures = {}
    for links in (1, 20):
        person = _loaded_user(make_user, warm, links=links)
        client = client_for(person)
        r, n = measure(round_trips, f"delete_user ({links} linked ids)", lambda: client.delete(f"/users/delete_user/{person.id}"))
        assert r.status_code == 200, r.content
        figures[links] = (n.count, n.commands)

    assert figures[1][0] == figures[20][0] <= BUDGET["delete_user"], f"delete_user: 1 linked id {figures[1]}, 20 linked ids {figures[20]}"
    assert figures[1][1] == figures[20][1]


def test_delete_user_costs_the_same_for_a_bare_user_and_a_full_one(warm, client_for, make_user, round_trips):
    bare = make_user()
    full = _loaded_user(make_user, warm, links=20)
    figures = {}
    for label, person in (("bare", bare), ("full", full)):
        client = client_for(person)
        r, n = measure(round_trips, f"delete_user ({label})", lambda: client.delete(f"/users/delete_user/{person.id}"))
        assert r.status_code == 200, r.content
        figures[label] = n.count

    assert figures["bare"] == figures["full"], f"delete_user: {figures}"


def test_the_chain_delete_service_costs_the_same_for_2_and_20_users(make_user, admin, round_trips):
    """Bulk (two users or more count per user): the cost depends on the number of collections only."""
    figures = {}
    for size in (2, 20):
        people = [make_user() for _ in range(size)]
        for person in people:
            linked_id_add(user=person, linked_id=f"{person.username}-x")
        with round_trips() as n:
            users_chain_delete(user_ids=[p.id for p in people], actor_id=admin.id, reason="bulk")
        print(f"\nusers_chain_delete ({size} users): {n.count} round trips {n.commands}")
        figures[size] = n.count

    assert figures[2] == figures[20], f"users_chain_delete: {figures}"


def test_a_listing_reads_one_page_not_every_document(make_user, admin, client_for, round_trips):
    """51 users, a page of 5: one count on the server and one read of the page (Django's Paginator
    over the QuerySet used to load all 51 to count them, one round trip more on the wire)."""
    for _ in range(50):
        make_user()
    client = client_for(admin)
    client.get("/health")
    with round_trips() as n:
        body = client.get("/users?per_page=5&page=2").json()
    assert body["total"] == 51 and len(body["data"]) == 5 and body["has_next"] and body["has_previous"]
    assert n.commands.count("count") + n.commands.count("count_documents") + n.commands.count("aggregate") == 1, n.commands
    assert n.count <= BUDGET["list users"], n.commands
