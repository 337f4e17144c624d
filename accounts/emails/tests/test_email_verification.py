"""Email verification: the mail at sign-up, POST /auth/email/verify, POST /auth/email/resend,
EMAIL_VERIFICATION none | optional | mandatory, and `email_verified` on the user."""
import json
from datetime import timedelta

import pytest
from mongoengine.connection import get_db
from rest_framework.throttling import ScopedRateThrottle

from accounts.users.documents import AuditEvent, User, now
from accounts.emails.documents import EmailToken
from accounts.emails import email_tokens, email_verification
from accounts.admin.admins import admin_create
from accounts.admin.trash import user_trash
from tests.conftest import PASSWORD
from tests.mailbox import delivered, last_token, link_in, token_in

INVALID = {"token": ["This token is invalid, expired or already used."]}
NOT_VERIFIED = {"detail": "Email address is not verified.", "code": "email_not_verified"}


def sign_up(api, username="carol", email="carol@example.com"):
    r = api.post("/users/register", {"username": username, "email": email, "password": PASSWORD}, format="json")
    assert r.status_code == 201, r.content
    return User.objects.get(id=r.json()["user_id"])


def test_sign_up_mails_a_verification_link_in_text_and_html(api, settings):
    user = sign_up(api)
    [message] = delivered("carol@example.com")
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.subject == "Confirm your email address"
    assert link_in(message).startswith(settings.EMAIL_VERIFY_URL.split("{token}")[0])
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and token_in(message) in html and "carol" in html
    assert "3 days" in message.body
    assert User.objects.get(id=user.id).email_verified is False


def test_verify_marks_the_address_verified_once(api, client_for):
    user = sign_up(api)
    token = last_token("carol@example.com")
    r = api.post("/auth/email/verify", {"token": token}, format="json")
    assert r.status_code == 200 and r.json() == {"message": "Email verified."}
    assert client_for(user).get(f"/users/{user.id}").json()["email_verified"] is True
    assert client_for(user).get("/users/me").json()["user"]["email_verified"] is True
    assert AuditEvent.objects(action="email_verified", target=user.id).count() == 1
    again = api.post("/auth/email/verify/", {"token": token}, format="json")
    assert again.status_code == 400 and again.json() == INVALID


@pytest.mark.parametrize("body", ['{}', '{"token": ""}', '{"token": "%s"}' % ("x" * 129), '{"token": 12}', '{"token": ["a"]}', '{"token": "nope"}'])
def test_bad_tokens_are_400_on_the_token(api, body):
    r = api.post("/auth/email/verify", body, content_type="application/json")
    assert r.status_code == 400 and "token" in r.json()


def test_an_expired_token_is_refused(api):
    sign_up(api)
    token = last_token("carol@example.com")
    EmailToken.objects.update(set__expires_at=now() - timedelta(seconds=1))
    assert api.post("/auth/email/verify", {"token": token}, format="json").json() == INVALID


def test_only_a_hash_of_the_token_is_stored_and_it_expires_by_ttl(api):
    sign_up(api)
    token = last_token("carol@example.com")
    stored = repr([list(get_db()[name].find()) for name in get_db().list_collection_names()])
    assert token not in stored
    [record] = EmailToken._get_collection().find()
    assert record["token_hash"] == email_tokens._hash(token) and record["purpose"] == email_tokens.VERIFY
    lifetime = record["expires_at"] - record["created_at"]
    assert timedelta(hours=71, minutes=59) < lifetime <= timedelta(hours=72)
    ttl = [i for i in EmailToken._get_collection().index_information().values() if i["key"] == [("expires_at", 1)]]
    assert ttl and ttl[0]["expireAfterSeconds"] == 0


def test_resend_voids_the_previous_link(api, client_for):
    user = sign_up(api)
    first = last_token("carol@example.com")
    r = client_for(user).post("/auth/email/resend")
    assert r.status_code == 202 and r.json() == {"message": "Verification email sent."}
    second = last_token("carol@example.com")
    assert len(delivered("carol@example.com")) == 2 and first != second
    assert api.post("/auth/email/verify", {"token": first}, format="json").status_code == 400
    assert api.post("/auth/email/verify", {"token": second}, format="json").status_code == 200


def test_resend_needs_a_token_and_an_unverified_address(api, client_for):
    assert api.post("/auth/email/resend").status_code == 401
    user = sign_up(api)
    assert api.post("/auth/email/verify", {"token": last_token("carol@example.com")}, format="json").status_code == 200
    r = client_for(User.objects.get(id=user.id)).post("/auth/email/resend/")
    assert r.status_code == 409 and r.json() == {"detail": "Email address is already verified."}


def test_resend_is_throttled_per_user(api, client_for, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, "email_resend": "2/hour"})
    user = sign_up(api)
    client = client_for(user)
    assert [client.post("/auth/email/resend").status_code for _ in range(3)] == [202, 202, 429]


def test_guessing_tokens_is_throttled_per_address(api, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, "email_token": "3/min"})
    codes = [api.post("/auth/email/verify", {"token": f"guess-{n}"}, format="json").status_code for n in range(4)]
    assert codes == [400, 400, 400, 429]


def test_none_sends_no_mail(api, settings):
    settings.EMAIL_VERIFICATION = "none"
    user = sign_up(api)
    assert delivered() == [] and user.email_verified is False


def test_optional_lets_an_unverified_account_log_in(api):
    sign_up(api)
    r = api.post("/login", {"email": "carol@example.com", "password": PASSWORD}, format="json")
    assert r.status_code == 200


def test_mandatory_refuses_login_until_verified(api, settings):
    settings.EMAIL_VERIFICATION = "mandatory"
    sign_up(api)
    wrong = api.post("/login", {"email": "carol@example.com", "password": "not the password"}, format="json")
    assert wrong.status_code == 401  # the 403 comes only after the right password
    r = api.post("/login", {"email": "carol@example.com", "password": PASSWORD}, format="json")
    assert r.status_code == 403 and r.json() == NOT_VERIFIED
    assert "access" not in r.json()
    assert api.post("/auth/email/verify", {"token": last_token("carol@example.com")}, format="json").status_code == 200
    assert api.post("/login", {"email": "carol@example.com", "password": PASSWORD}, format="json").status_code == 200


def test_a_refused_login_mails_a_fresh_link_at_most_every_ten_minutes(api, settings):
    settings.EMAIL_VERIFICATION = "mandatory"
    sign_up(api)
    EmailToken.objects.delete()  # the sign-up link expired long ago
    for _ in range(3):
        assert api.post("/login", {"email": "carol@example.com", "password": PASSWORD}, format="json").status_code == 403
    assert len(delivered("carol@example.com")) == 2  # sign-up, then one for the three refusals
    assert api.post("/auth/email/verify", {"token": last_token("carol@example.com")}, format="json").status_code == 200


def test_accounts_stored_before_verification_existed_count_as_verified(api, client_for, user, settings):
    settings.EMAIL_VERIFICATION = "mandatory"
    User._get_collection().update_one({"_id": user.id}, {"$unset": {"email_verified": ""}})
    r = api.post("/login", {"email": user.email, "password": PASSWORD}, format="json")
    assert r.status_code == 200, r.content
    assert client_for(user).get(f"/users/{user.id}").json()["email_verified"] is True
    assert client_for(user).get("/users/me").json()["user"]["email_verified"] is True


def test_admins_made_by_the_operator_are_verified():
    admin, created = admin_create(username="boss", email="boss@example.com", password=PASSWORD)
    assert created and admin.email_verified is True


def test_a_link_for_an_address_the_account_left_verifies_nothing(api, client_for):
    user = sign_up(api)
    old_token = last_token("carol@example.com")
    # The record of the old link is replaced by the new address's; keep a copy to replay it.
    record = EmailToken._get_collection().find_one()
    body = {"email": "carol.new@example.com", "current_password": PASSWORD}
    assert client_for(user).patch(f"/users/{user.id}", body, format="json").status_code == 200
    assert api.post("/auth/email/verify", {"token": old_token}, format="json").json() == INVALID
    # Even a record that survived for the old address would verify nothing now.
    EmailToken._get_collection().delete_many({})
    EmailToken._get_collection().insert_one(record)
    assert api.post("/auth/email/verify", {"token": old_token}, format="json").json() == INVALID
    assert User.objects.get(id=user.id).email_verified is False


def test_a_trashed_account_cannot_verify(api, admin):
    user = sign_up(api)
    token = last_token("carol@example.com")
    user_trash(user=user, actor=admin, reason="spam")
    assert api.post("/auth/email/verify", {"token": token}, format="json").json() == INVALID


def test_two_concurrent_verifies_of_one_token_succeed_once(api):
    from concurrent.futures import ThreadPoolExecutor

    sign_up(api)
    token = last_token("carol@example.com")

    def attempt(_):
        try:
            email_verification.email_verify(token=token)
            return "ok"
        except Exception:  # noqa: BLE001
            return "refused"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert results.count("ok") == 1


def test_the_chain_delete_removes_the_tokens_and_the_export_hides_their_hash(api, client_for):
    user = sign_up(api)
    token = last_token("carol@example.com")
    export = client_for(user).get(f"/users/{user.id}/export").json()
    [record] = export["collections"]["email_tokens"]
    assert "token_hash" not in record and record["purpose"] == "verify_email"
    assert token not in repr(export) and email_tokens._hash(token) not in repr(export)
    assert client_for(user).delete(f"/users/delete_user/{user.id}").status_code == 200
    assert EmailToken.objects.count() == 0


def test_swagger_and_the_browsable_api_show_the_email_endpoints(api):
    schema = json.loads(api.get("/api/schema/?format=json").content)
    paths = {path.rstrip("/"): item["post"]["responses"] for path, item in schema["paths"].items() if "post" in item}
    assert {"200", "400", "429"} <= set(paths["/auth/email/verify"])
    assert {"202", "401", "409", "429"} <= set(paths["/auth/email/resend"])
    assert {"202", "400", "429"} <= set(paths["/auth/password/reset"])
    assert {"204", "400", "429"} <= set(paths["/auth/password/reset/confirm"])
    assert "403" in paths["/login"]
    assert "current_password" in schema["components"]["schemas"]["PatchedUserUpdateInputRequest"]["properties"]
    page = api.get("/auth/email/verify", HTTP_ACCEPT="text/html")
    # The page titled in the schema's words, with the form to post the token (pre-filled keys).
    assert page.status_code == 200 and b'action="/auth/email/verify" method="POST"' in page.content
    assert b"Verify an email address with the token from the mail" in page.content
    assert b"&quot;token&quot;" in page.content


@pytest.mark.parametrize("delta,text", [(timedelta(hours=72), "3 days"), (timedelta(hours=1), "1 hour"), (timedelta(minutes=90), "90 minutes"), (timedelta(seconds=30), "0 minutes")])
def test_how_long_a_link_lives_reads_naturally(delta, text):
    assert email_tokens.duration_text(delta) == text


def test_concurrent_issues_leave_one_live_token(user):
    """Many requests at once for one account: one record, and exactly one of the tokens works."""
    from concurrent.futures import ThreadPoolExecutor

    def issue(_):
        return email_tokens.token_issue(user_id=user.id, purpose=email_tokens.RESET, email=user.email, lifetime=timedelta(hours=1))

    with ThreadPoolExecutor(8) as pool:
        tokens = list(pool.map(issue, range(16)))
    assert EmailToken.objects(user=user.id).count() == 1
    assert sum(email_tokens.token_find(token=t, purpose=email_tokens.RESET) is not None for t in tokens) == 1
