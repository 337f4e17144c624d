"""What two-factor login stores about a user: the TOTP device with its recovery codes, and the
spent mfa_tokens (each accepted once)."""
from mongoengine import CASCADE, BooleanField, DateTimeField, Document, IntField, ListField, ReferenceField, StringField

from accounts.users.documents import User, now


class RevokedToken(Document):
    """A spent mfa_token (the second step of a two-factor login): it is claimed by inserting its
    `jti`, whose unique index decides races (of two concurrent second steps with one token,
    exactly one goes on), and given back if the code turns out wrong. MongoDB's TTL monitor drops
    the record once the token has expired anyway. (Refresh tokens are not kept here: a session
    holds the one refresh token it accepts next, accounts/sessions/documents.py.)
    """

    jti = StringField(required=True, unique=True)
    user = ReferenceField(User, reverse_delete_rule=CASCADE)
    expires_at = DateTimeField(required=True)

    meta = {
        "collection": "revoked_tokens",
        "indexes": [{"fields": ["expires_at"], "expireAfterSeconds": 0}, {"fields": ["user"]}],
    }


class TotpDevice(Document):
    """A user's TOTP authenticator (RFC 6238) and recovery codes (the rules in
    accounts/mfa/two_factor.py, the codes in accounts/mfa/factors.py).

    `secret` is encrypted (Fernet, key from MFA_ENCRYPTION_KEYS); `last_step` is the time step of
    the last accepted code, raised atomically so that no code (or an older one) is accepted twice;
    `recovery_codes` are SHA-256 hashes of the unused recovery codes, each pulled atomically when
    used. `confirmed` is false between enrolment's two steps, in which `confirm_attempts` counts
    the codes tried.
    """

    user = ReferenceField(User, required=True, unique=True, reverse_delete_rule=CASCADE)
    secret = StringField(required=True)
    confirmed = BooleanField(default=False)
    last_step = IntField(default=0)
    recovery_codes = ListField(StringField())
    # Codes tried against a pending enrolment (capped by MFA_ENROL_CONFIRM_ATTEMPTS).
    confirm_attempts = IntField(default=0)
    # Second-factor attempts not (yet) right in the window ending at `failures_until`, counted
    # under the password of `failures_token_version` (accounts/mfa/guess_cap.py).
    failures = IntField(default=0)
    failures_until = DateTimeField(null=True)
    failures_token_version = IntField(null=True)
    created_at = DateTimeField(default=now)
    confirmed_at = DateTimeField(null=True)

    # Never exported: the export says whether TOTP is on, not how to produce its codes.
    export_exclude = ("secret", "recovery_codes", "last_step", "confirm_attempts", "failures", "failures_until", "failures_token_version")

    meta = {"collection": "mfa_totp"}

