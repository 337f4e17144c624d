"""Changing the email with PATCH /users/{user_id}: the current password, the mails, uniqueness."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts.users.account import user_update
from accounts.users.documents import AuditEvent, User
from common.exceptions import Conflict
from tests.conftest import PASSWORD
from tests.mailbox import delivered, last_token


def patch(client, user, body):
    return client.patch(f"/users/{user.id}", body, format="json")


@pytest.mark.parametrize(
    "body,message",
    [
        ({"email": "new@example.com"}, "The current password is required to change the email."),
        ({"email": "new@example.com", "current_password": ""}, None),
        ({"email": "new@example.com", "current_password": "not the password"}, "The current password is not correct."),
    ],
)
def test_the_owner_needs_the_current_password(client_for, user, body, message):
    r = patch(client_for(user), user, body)
    assert r.status_code == 400 and "current_password" in r.json()
    if message:
        assert r.json() == {"current_password": [message]}
    assert User.objects.get(id=user.id).email == "alice@example.com"
    assert delivered() == []


def test_the_password_is_checked_before_uniqueness(client_for, user, other):
    """A stolen access token alone cannot ask which addresses have accounts."""
    r = patch(client_for(user), user, {"email": other.email})
    assert r.status_code == 400 and "current_password" in r.json()


def test_a_change_mails_the_new_address_a_link_and_the_old_one_a_notice(api, client_for, user):
    r = patch(client_for(user), user, {"email": "Alice.New@example.com", "current_password": PASSWORD})
    assert r.status_code == 200, r.content
    assert r.json()["email"] == "Alice.New@example.com" and r.json()["email_verified"] is False
    assert "current_password" not in r.json()
    [notice] = delivered("alice@example.com")
    assert notice.subject == "Your email address was changed"
    assert "http" not in notice.body and "token" not in notice.body
    [verify] = delivered("Alice.New@example.com")
    assert verify.subject == "Confirm your email address"
    assert api.post("/auth/email/verify", {"token": last_token("Alice.New@example.com")}, format="json").status_code == 200
    assert User.objects.get(id=user.id).email_verified is True
    event = AuditEvent.objects(action="email_change").first()
    assert event.actor_id == user.id and event.target.id == user.id
    assert "example.com" not in repr(event.detail)


def test_a_change_of_letter_case_only_needs_no_password_and_keeps_the_state(client_for, user):
    User.objects(id=user.id).update_one(set__email_verified=True)
    r = patch(client_for(user), user, {"email": "ALICE@example.com"})
    assert r.status_code == 200 and r.json()["email_verified"] is True
    assert delivered() == []


def test_an_admin_changes_it_without_a_password(client_for, admin, user):
    r = patch(client_for(admin), user, {"email": "alice.moved@example.com"})
    assert r.status_code == 200 and r.json()["email_verified"] is False
    assert len(delivered("alice.moved@example.com")) == 1 and len(delivered("alice@example.com")) == 1


def test_an_admin_changing_their_own_address_is_an_owner(client_for, admin):
    assert patch(client_for(admin), admin, {"email": "boss@example.com"}).status_code == 400


def test_the_new_address_is_held_at_once(api, client_for, user):
    assert patch(client_for(user), user, {"email": "wanted@example.com", "current_password": PASSWORD}).status_code == 200
    r = api.post("/users/register", {"username": "mallory", "email": "WANTED@example.com", "password": PASSWORD}, format="json")
    assert r.status_code == 409


def test_a_taken_address_is_409_and_nothing_is_mailed(client_for, user, other):
    r = patch(client_for(user), user, {"email": other.email, "current_password": PASSWORD})
    assert r.status_code == 409 and delivered() == []
    assert User.objects.get(id=user.id).email_verified is False and User.objects.get(id=user.id).email == user.email


def test_two_accounts_racing_for_one_address_one_wins(make_user):
    people = [make_user(f"racer{n}", f"racer{n}@example.com") for n in range(6)]

    def attempt(person):
        try:
            user_update(user=person, actor=person, email="prize@example.com", current_password=PASSWORD)
            return "won"
        except Conflict:
            return "409"

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(attempt, people))
    assert results.count("won") == 1 and results.count("409") == 5
    assert User.objects(email_key="prize@example.com").count() == 1
    assert len(delivered("prize@example.com")) == 1


def test_a_change_voids_a_pending_reset_link(api, client_for, user):
    api.post("/auth/password/reset", {"email": user.email}, format="json")
    reset_token = last_token(user.email)
    assert patch(client_for(user), user, {"email": "elsewhere@example.com", "current_password": PASSWORD}).status_code == 200
    r = api.post("/auth/password/reset/confirm", {"token": reset_token, "new_password": "a brand new river stone"}, format="json")
    assert r.status_code == 400


def test_wrong_passwords_count_as_failed_logins(client_for, user, settings):
    client = client_for(user)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert patch(client, user, {"email": "new@example.com", "current_password": "a wrong guess"}).status_code == 400
    r = patch(client, user, {"email": "new@example.com", "current_password": PASSWORD})
    assert r.status_code == 429 and "Retry-After" in r
    assert User.objects.get(id=user.id).email == "alice@example.com"
