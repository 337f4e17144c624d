"""Issue 12, item 10, for users stored before the look-alike rules: `manage.py normalize_identities`
gives them a username skeleton and their email its stored form, so look-alikes of their names
are refused from then on; accounts that already collide are listed, not changed."""
from io import StringIO

import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import call_command

from accounts.users.documents import User
from tests.conftest import PASSWORD


def legacy(username, email):
    """A user as the service stored it before: plain case folding, no skeleton."""
    user = User(username=username, username_key=username.strip().casefold(), email=email, email_key=email.strip().casefold(), password=make_password(PASSWORD))
    user.save(force_insert=True)
    User._get_collection().update_one({"_id": user.id}, {"$unset": {"username_skeleton": ""}})
    return user


def register(api, username, email):
    return api.post("/users/register", {"username": username, "email": email, "password": PASSWORD}, format="json")


def test_before_it_runs_a_look_alike_of_an_old_name_gets_through_after_it_does_not(api):
    legacy("admin", "admin@exämple.com")
    out = StringIO()
    call_command("normalize_identities", stdout=out)
    assert "1 users updated" in out.getvalue()
    assert register(api, "adm\u0131n", "other@example.com").status_code == 409
    assert register(api, "carol", "admin@xn--exmple-cua.com").status_code == 409
    stored = User.objects.get(username="admin")
    assert stored.email == "admin@xn--exmple-cua.com" and stored.username_skeleton == "admin"
    assert api.post("/login", {"email": "admin@exämple.com", "password": PASSWORD}, format="json").status_code == 200


def test_a_dry_run_changes_nothing_and_collisions_are_listed(api):
    first, second = legacy("bob1", "bob1@example.com"), legacy("bobl", "bobl@example.com")
    out = StringIO()
    call_command("normalize_identities", "--dry-run", stdout=out)
    assert User.objects(username_skeleton__exists=True).count() == 0
    call_command("normalize_identities", stdout=out)
    text = out.getvalue()
    assert "look alike" in text and str(second.id) in text
    assert User.objects.get(id=first.id).username_skeleton == "bobl"
    assert User.objects.get(id=second.id).username_skeleton is None  # left for a person to decide


def test_running_it_twice_is_harmless(api):
    legacy("dave", "dave@example.com")
    call_command("normalize_identities", stdout=StringIO())
    out = StringIO()
    call_command("normalize_identities", stdout=out)
    assert "0 users updated" in out.getvalue()
