"""One lookup by email (`selectors.user_by_email`), and every place that finds a user by an
address (login, password reset, admins, createadmin) finds the same user through it: an account
stored before the email rules, under the plain case folding of a Unicode domain, included."""
import io

import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import call_command

from accounts.admin.admins import admin_create
from accounts.users import selectors
from accounts.users.documents import ROLE_ADMIN, User, casefold_key
from tests.conftest import PASSWORD
from tests.mailbox import delivered

OLD_EMAIL = "old@exämple.com"


@pytest.fixture
def legacy() -> User:
    """An account as the older systems stored it: its key is the plain case folding of the address."""
    user = User(username="old timer", username_key=casefold_key("old timer"), email=OLD_EMAIL, email_key=OLD_EMAIL.casefold())
    user.password = make_password(PASSWORD)
    user.save(force_insert=True)
    return user


def test_it_finds_the_current_and_the_older_form_and_nobody_else(user, legacy):
    assert selectors.user_by_email("  ALICE@example.com ").id == user.id
    assert selectors.user_by_email("Old@Exämple.com").id == legacy.id
    assert selectors.user_by_email("nobody@example.com") is None


def test_the_login_finds_the_older_form(api, legacy):
    r = api.post("/login", {"email": "OLD@exämple.com", "password": PASSWORD}, format="json")
    assert r.status_code == 200 and r.json()["user_id"] == str(legacy.id), r.content


def test_the_password_reset_finds_the_older_form(api, legacy):
    assert api.post("/auth/password/reset", {"email": "Old@exämple.com"}, format="json").status_code == 202
    assert len(delivered(OLD_EMAIL)) == 1


def test_admins_and_createadmin_find_the_older_form(legacy):
    user, created = admin_create(username="ignored", email="OLD@exämple.com", password=None)
    assert (user.id, created, user.role) == (legacy.id, False, ROLE_ADMIN)
    # createadmin asks for no password for an existing account, even with no terminal.
    call_command("createadmin", "--username", "x", "--email", "old@EXÄMPLE.com", stdout=io.StringIO())
    assert User.objects.count() == 1
