"""The user and what `accounts` itself keeps about a user, as MongoEngine documents.

Every document that belongs to a user holds `ReferenceField(User, reverse_delete_rule=CASCADE)`.
That registration is what `accounts.services.user_data` walks (chain delete, counts, export,
orphans), so a new app that hangs data off a user is covered by declaring its reference that
way, with no change here.
Uniqueness is enforced by unique indexes (never check-then-insert), so it holds under races and
across processes. Every query path has an index.
"""
from datetime import datetime, timezone

from mongoengine import (
    CASCADE,
    BooleanField,
    DateTimeField,
    DictField,
    Document,
    IntField,
    ListField,
    ObjectIdField,
    ReferenceField,
    StringField,
)

ROLE_USER = "user"
ROLE_ADMIN = "admin"
ROLES = (ROLE_USER, ROLE_ADMIN)


def now() -> datetime:
    return datetime.now(timezone.utc)


def casefold_key(value: str) -> str:
    """The form in which usernames and emails are compared, stored and indexed (NFKC, then case
    folded: see accounts/identity.py)."""
    from accounts.identity import identity_key

    return identity_key(value)


class User(Document):
    username = StringField(required=True, max_length=150)
    # Case-insensitive uniqueness: the folded forms carry the unique indexes.
    username_key = StringField(required=True, unique=True)
    email = StringField(required=True, max_length=254)
    email_key = StringField(required=True, unique=True)
    # Whether the owner proved the address is theirs (README, "Email"). Accounts stored before
    # verification existed have no such field and count as verified; new sign-ups store False.
    email_verified = BooleanField(default=True)
    # What the username looks like (accounts/identity.py): look-alikes share it, so the unique
    # index refuses them. Sparse: users stored before it existed have none until
    # `check_integrity --fix` computes theirs.
    username_skeleton = StringField(unique=True, sparse=True)
    password = StringField(required=True)  # a Django hasher's encoded hash; never rendered
    role = StringField(choices=ROLES, default=ROLE_USER)
    is_active = BooleanField(default=True)
    # Set while the account is in the trash (its TrashEntry holds who, when and why).
    in_trash = BooleanField(default=False)
    # Part of every token; raising it revokes every token the user holds at once.
    token_version = IntField(default=0)
    # The ids of the user's live sessions (accounts/services/sessions.py). Kept here, on the document that
    # authentication loads anyway, so that checking a token's session costs no round trip; added
    # and removed with atomic $addToSet/$pull. The Session documents hold the rest.
    session_ids = ListField(ObjectIdField())
    # Two-factor login is on (a confirmed TotpDevice exists); read by login with the password check.
    mfa_enabled = BooleanField(default=False)
    # Set by the chain delete before it deletes anything (accounts/services/dependents.py).
    deleting = BooleanField(default=False)
    links_copy = ListField(DictField())  # the join's copy of the LinkedIds (services/linked_ids.py)
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)

    meta = {
        "collection": "users",
        "indexes": [
            # The admin listing: live accounts in a stable order (newest first).
            {"fields": ["in_trash", "-created_at", "-_id"]},
            {"fields": ["role"]},
        ],
    }

    # Never in an export (user_data reads it on every class); the links' copy: as LinkedId documents.
    export_exclude = ("password", "links_copy")

    # What DRF and simplejwt ask of request.user.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN

    def __str__(self) -> str:
        return f"{self.username} <{self.id}>"


class LinkedId(Document):
    """An external id linked to a user; one document per id, each id held by one user at most."""

    linked_id = StringField(required=True, unique=True, max_length=128)
    user = ReferenceField(User, required=True, reverse_delete_rule=CASCADE)
    created_at = DateTimeField(default=now)

    meta = {"collection": "linked_ids", "indexes": [{"fields": ["user", "-created_at"]}]}


class RevokedToken(Document):
    """A refresh token that can no longer be used (logged out, or spent by a rotation).

    The unique `jti` decides races: of many concurrent rotations of one token, exactly one
    insert succeeds. MongoDB's TTL monitor drops the record once the token has expired anyway.
    """

    jti = StringField(required=True, unique=True)
    user = ReferenceField(User, reverse_delete_rule=CASCADE)
    expires_at = DateTimeField(required=True)

    meta = {
        "collection": "revoked_tokens",
        "indexes": [{"fields": ["expires_at"], "expireAfterSeconds": 0}, {"fields": ["user"]}],
    }


class LoginFailure(Document):
    """Failed logins in a window that starts at the counter's first failure: per account
    (`account:<email>`, with the counts per client address inside) or per client address
    (`ip:<hash>`). Addresses appear only as keyed hashes. Incremented atomically; see
    accounts/lockout.py for the limits. The TTL index removes ended windows.
    """

    key = StringField(required=True, unique=True)
    user = ReferenceField(User, reverse_delete_rule=CASCADE)
    count = IntField(default=0)
    # Failures of this account per client address (a keyed hash of it), inside the account's window.
    by_address = DictField()
    expires_at = DateTimeField(required=True)

    meta = {
        "collection": "login_failures",
        "indexes": [{"fields": ["expires_at"], "expireAfterSeconds": 0}, {"fields": ["user"]}],
    }


class TrashEntry(Document):
    """An account in the trash: who moved it there, when and why. The stored names
    (`deleted_by`, `deleted_at`) predate the vocabulary and are what GET /trash answers."""

    user = ReferenceField(User, required=True, unique=True, reverse_delete_rule=CASCADE)
    trashed_by = ObjectIdField(required=True, db_field="deleted_by")
    trashed_at = DateTimeField(default=now, db_field="deleted_at")
    reason = StringField(required=True, max_length=500)

    meta = {"collection": "trash", "indexes": [{"fields": ["trashed_at"]}]}


class AuditEvent(Document):
    """Security events: logins, password changes, revocations, role changes, trash moves.

    Holds the actor, the action, the target and the client address; never a password, hash or
    token. Events about a user go with the user in the chain delete.
    """

    action = StringField(required=True)
    actor_id = ObjectIdField(null=True)
    target = ReferenceField(User, null=True, reverse_delete_rule=CASCADE)
    ip = StringField(null=True)
    at = DateTimeField(default=now)
    detail = DictField()

    meta = {"collection": "audit_events", "indexes": [{"fields": ["target", "-at"]}, {"fields": ["-at"]}]}


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


class DeletionRecord(Document):
    """What remains of a chain-deleted user: the id, who, when, why and how many documents
    went from each collection. Deliberately no reference to the user and nothing personal."""

    user_id = ObjectIdField(required=True)
    deleted_by = ObjectIdField(null=True)  # null when run from a management command
    deleted_at = DateTimeField(default=now)
    reason = StringField(default="")
    counts = DictField()

    meta = {"collection": "deletion_records", "indexes": [{"fields": ["user_id"]}, {"fields": ["-deleted_at"]}]}


class Session(Document):
    """One login: created by a password (and second-factor) login, kept alive by refreshes, ended
    by logout, by its owner or an admin, by reuse of one of its spent refresh tokens, or by a
    password change. Every token issued in it carries its id (`sid`); it is live while its id is
    in `User.session_ids`. `refresh_jti` is the one refresh token of the session that may be
    used next: a refresh swaps it atomically, so any other (spent) refresh token is a reuse.
    The TTL index drops a session whose last refresh token has expired.
    """

    user = ReferenceField(User, required=True, reverse_delete_rule=CASCADE)
    refresh_jti = StringField(required=True)
    created_at = DateTimeField(default=now)
    last_used_at = DateTimeField(default=now)
    ip = StringField(null=True)
    user_agent = StringField(default="", max_length=512)
    expires_at = DateTimeField(required=True)

    # What the export leaves out: not a credential, but of no use to the person either.
    export_exclude = ("refresh_jti",)

    meta = {
        "collection": "sessions",
        "indexes": [{"fields": ["user", "-last_used_at"]}, {"fields": ["expires_at"], "expireAfterSeconds": 0}],
    }


class TotpDevice(Document):
    """A user's TOTP authenticator (RFC 6238) and recovery codes (accounts/services/two_factor.py).

    `secret` is encrypted (Fernet, key from MFA_ENCRYPTION_KEYS); `last_step` is the time step of
    the last accepted code, raised atomically so that no code (or an older one) is accepted twice;
    `recovery_codes` are SHA-256 hashes of the unused recovery codes, each pulled atomically when
    used. `confirmed` is false between enrolment's two steps.
    """

    user = ReferenceField(User, required=True, unique=True, reverse_delete_rule=CASCADE)
    secret = StringField(required=True)
    confirmed = BooleanField(default=False)
    last_step = IntField(default=0)
    recovery_codes = ListField(StringField())
    created_at = DateTimeField(default=now)
    confirmed_at = DateTimeField(null=True)

    # Never exported: the export says whether TOTP is on, not how to produce its codes.
    export_exclude = ("secret", "recovery_codes", "last_step")

    meta = {"collection": "mfa_totp"}

