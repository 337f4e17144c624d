"""The tokens mailed to users (verification, password reset), stored as hashes."""
from mongoengine import CASCADE, DateTimeField, Document, ReferenceField, StringField

from accounts.users.documents import User, now


# What a mailed token is for: verifying an address, resetting a password.
EMAIL_TOKEN_PURPOSES = ("verify_email", "password_reset")


class EmailToken(Document):
    """A token mailed to a user, stored as its hash. `email` is the address it was sent to:
    a verification token verifies that address only, not one the account has moved to since."""

    user = ReferenceField(User, required=True, reverse_delete_rule=CASCADE)
    purpose = StringField(required=True, choices=EMAIL_TOKEN_PURPOSES)
    token_hash = StringField(required=True, unique=True)
    email = StringField(required=True)
    created_at = DateTimeField(default=now)
    expires_at = DateTimeField(required=True)

    meta = {
        "collection": "email_tokens",
        "indexes": [
            {"fields": ["user", "purpose"], "unique": True},
            {"fields": ["expires_at"], "expireAfterSeconds": 0},
        ],
    }
    # Left out of the export: the hash is of no use to the person and needs no showing.
    export_exclude = ("token_hash",)
