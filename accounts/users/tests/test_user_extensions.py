"""accounts/users/user_extensions.py: another app adds a stored field and a representation key to
the user, and `accounts` renders them without knowing about them."""
import pytest
from mongoengine import BooleanField
from rest_framework import serializers

from accounts.users.documents import User
from accounts.users.user_extensions import user_field_add, user_output_field_add


def test_a_contributed_field_is_stored_loaded_and_queried(user):
    User._get_collection().update_one({"_id": user.id}, {"$set": {"has_avatar": True}})
    assert User.objects.get(id=user.id).has_avatar is True
    assert User.objects(has_avatar=True).count() == 1
    assert User(username="x", username_key="x", email="x@example.com", email_key="x@example.com", password="h").has_avatar is False


def test_the_user_representation_keeps_its_key_order(client_for, user):
    keys = list(client_for(user).get(f"/users/{user.id}").json())
    assert keys == ["id", "username", "email", "role", "email_verified", "linked_ids", "avatar_url", "mfa_enabled", "passkeys_count", "created_at", "updated_at"]


def test_a_taken_name_is_refused():
    with pytest.raises(ValueError):
        user_field_add("email", BooleanField())
    with pytest.raises(ValueError):
        user_output_field_add("avatar_url", serializers.CharField(), after="id")
