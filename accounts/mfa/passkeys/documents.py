"""What the passkeys keep in MongoDB: the credentials, and the challenges of ceremonies under way.

Both belong to a user by declaration (`ReferenceField(User, reverse_delete_rule=CASCADE)`), so
the chain delete, the export and `check_integrity` cover them with no code of their own
(README, "Everything stored about a user"). What an export shows of a passkey is its name and
dates: `export_exclude` leaves out the credential id, the public key and the counter.
"""
from mongoengine import CASCADE, BinaryField, BooleanField, DateTimeField, Document, IntField, ListField, ReferenceField, StringField

from accounts.users.documents import User, now

# `User.passkeys_count` is declared in user_fields.py (settings.USER_FIELD_MODULES).

PASSKEY_NAME_MAX = 64


class Passkey(Document):
    """A WebAuthn credential registered by a user (a passkey or a security key).

    `credential_id` is the authenticator's id for it (base64url, unique: a credential belongs to
    one account); `public_key` the COSE key the authenticator made, as the verifying library
    returned it; `sign_count` the signature counter of the last accepted assertion, raised only
    by a conditional update (`sign_count < new`), so a counter that did not go up (a cloned
    authenticator, or a replay) is refused even when two requests race.
    """

    user = ReferenceField(User, required=True, reverse_delete_rule=CASCADE)
    credential_id = StringField(required=True, unique=True, max_length=1400)
    public_key = BinaryField(required=True)
    sign_count = IntField(default=0, min_value=0)
    transports = ListField(StringField(max_length=32))
    aaguid = StringField(default="")
    backed_up = BooleanField(default=False)
    device_type = StringField(default="")
    name = StringField(required=True, max_length=PASSKEY_NAME_MAX)
    created_at = DateTimeField(default=now)
    last_used_at = DateTimeField(null=True)

    # Names and dates only: never the key material, nor what identifies the authenticator.
    export_exclude = ("credential_id", "public_key", "sign_count", "transports", "aaguid", "backed_up", "device_type")

    meta = {"collection": "passkeys", "indexes": [{"fields": ["user", "created_at"]}]}


# What a ceremony is for; a challenge is good for its own ceremony only.
CEREMONY_REGISTER = "register"  # adding a passkey (a signed-in user, in one session)
CEREMONY_LOGIN = "login"  # signing in with a passkey alone
CEREMONY_MFA = "mfa"  # a passkey as the second factor of a password login (one mfa_token)
CEREMONY_KINDS = (CEREMONY_REGISTER, CEREMONY_LOGIN, CEREMONY_MFA)


class WebAuthnChallenge(Document):
    """The challenge of one ceremony under way, kept server-side so that every process sees it.

    Its `_id` is the SHA-256 of the opaque `ceremony` id the client holds (so the stored form is
    no use to someone who reads the database). Single use: a ceremony is claimed by deleting
    this document, and only the request whose delete removed it goes on. Short-lived:
    `expires_at` is checked at the claim, and the TTL index tidies up. Bound: `kind` to the
    ceremony, `user` to the account it is for (none for a discoverable login), `binding` to what
    started it (the session of a registration, the mfa_token of a second factor).
    """

    id = StringField(primary_key=True)
    kind = StringField(required=True, choices=CEREMONY_KINDS)
    challenge = BinaryField(required=True)
    user = ReferenceField(User, null=True, reverse_delete_rule=CASCADE)
    binding = StringField(default="")
    expires_at = DateTimeField(required=True)

    # A pending challenge is nobody's business, the person's included.
    export_exclude = ("_id", "challenge", "binding")

    meta = {
        "collection": "webauthn_challenges",
        "indexes": [{"fields": ["expires_at"], "expireAfterSeconds": 0}, {"fields": ["user"]}],
    }
