"""What provider sign-in stores: the identities linked to accounts, and the pending
authorizations of browser redirects."""
from mongoengine import CASCADE, BooleanField, DateTimeField, Document, ReferenceField, StringField

from accounts.users.documents import User, now


class ProviderIdentity(Document):
    """A person at a provider (issuer + subject) linked to one account here.

    The unique index on (issuer, subject) is the promise that an identity belongs to one account
    at most: of two concurrent first sign-ins or connections, exactly one insert succeeds. The
    issuer, not the provider's id in settings, is the key: renaming a provider's id keeps its
    people's accounts. Declared with CASCADE, so the chain delete, the export and
    `check_integrity` cover it by this declaration alone."""

    user = ReferenceField(User, required=True, reverse_delete_rule=CASCADE)
    provider = StringField(required=True, max_length=64)  # the settings id when it was linked
    issuer = StringField(required=True, max_length=2048)
    subject = StringField(required=True, max_length=255)
    email = StringField(max_length=254)  # as the provider said at linking, for the owner's list
    email_verified = BooleanField(default=False)
    created_at = DateTimeField(default=now)

    meta = {
        "collection": "provider_identities",
        "indexes": [
            {"fields": ["issuer", "subject"], "unique": True},
            {"fields": ["user", "-created_at"]},
        ],
    }


class ProviderAuthorization(Document):
    """A browser redirect to a provider that has not come back yet: what the callback needs
    (nonce, PKCE verifier, redirect URI, where to send the browser next), found by the hash of
    the `state` it sent, bound to the browser that started it (the hash of a cookie), usable
    once (the callback's delete decides) and for AUTHORIZATION_MINUTES at most (checked on
    claim; the TTL index tidies up). It belongs to no account: nobody is signed in yet."""

    state_hash = StringField(required=True, unique=True)
    browser_hash = StringField(required=True)
    provider = StringField(required=True)
    nonce = StringField(required=True)
    code_verifier = StringField(required=True)
    redirect_uri = StringField(required=True)
    next_url = StringField(required=True)
    expires_at = DateTimeField(required=True)

    meta = {
        "collection": "provider_authorizations",
        "indexes": [{"fields": ["expires_at"], "expireAfterSeconds": 0}],
    }
