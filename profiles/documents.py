"""What hangs off a user in `profiles`: details (and avatars). Each references the user with
CASCADE, so the chain delete in `accounts` reaches it without knowing about it."""
from mongoengine import CASCADE, DateTimeField, DictField, Document, ReferenceField, StringField

from accounts.documents import User, now


class Details(Document):
    """One per user: address, phone and free-form preferences."""

    user = ReferenceField(User, required=True, unique=True, reverse_delete_rule=CASCADE)
    address = StringField(max_length=500, null=True)
    phone = StringField(max_length=16, null=True)
    preferences = DictField()
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)

    meta = {"collection": "details"}
