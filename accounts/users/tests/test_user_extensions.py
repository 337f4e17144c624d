"""How another app adds to the user: a stored field declared with `User` (settings.
USER_FIELD_MODULES, accounts/users/documents.py) and a representation key
(accounts/users/user_extensions.py); `accounts` renders them without knowing about them."""
import sys
import types

import pytest
from django.core.exceptions import ImproperlyConfigured
from mongoengine import BooleanField
from rest_framework import serializers

from accounts.users.documents import User, user_fields_contributed
from accounts.users.user_extensions import user_output_field_add


def test_a_contributed_field_is_stored_loaded_and_queried(user):
    User._get_collection().update_one({"_id": user.id}, {"$set": {"has_avatar": True}})
    assert User.objects.get(id=user.id).has_avatar is True
    assert User.objects(has_avatar=True).count() == 1
    assert User(username="x", username_key="x", email="x@example.com", email_key="x@example.com", password="h").has_avatar is False


def test_contributed_fields_come_after_the_users_own_in_the_listed_order():
    """The stored and exported order: User's own fields, then each listed module's."""
    order = list(User(username="x", username_key="x", email="x@example.com", email_key="x@example.com", password="h").to_mongo())
    assert order[-3:] == ["passkeys_count", "has_avatar", "details_copy"]
    assert order.index("updated_at") < order.index("passkeys_count")
    assert "details_copy" in User.export_exclude and "has_avatar" not in User.export_exclude


def test_a_field_declared_twice_stops_the_start(monkeypatch):
    module = types.ModuleType("clashing_user_fields")
    module.user_fields = lambda: {"has_avatar": BooleanField()}
    monkeypatch.setitem(sys.modules, "clashing_user_fields", module)
    with pytest.raises(ImproperlyConfigured, match="has_avatar"):
        user_fields_contributed(["profiles.user_fields", "clashing_user_fields"], taken=set())
    module.user_fields = lambda: {"email": BooleanField()}
    with pytest.raises(ImproperlyConfigured, match="email"):
        user_fields_contributed(["clashing_user_fields"], taken={"email"})
    fields, exclude = user_fields_contributed(["profiles.user_fields"], taken=set())
    assert list(fields) == ["has_avatar", "details_copy"] and exclude == ("details_copy",)


def test_the_user_representation_keeps_its_key_order(client_for, user):
    keys = list(client_for(user).get(f"/users/{user.id}").json())
    assert keys == ["id", "username", "email", "role", "email_verified", "linked_ids", "avatar_url", "mfa_enabled", "passkeys_count", "created_at", "updated_at"]


def test_a_taken_name_is_refused():
    with pytest.raises(ValueError):
        user_output_field_add("avatar_url", serializers.CharField(), after="id")
