"""The user and what `accounts` itself keeps about a user, as MongoEngine documents.

Every document that belongs to a user holds `ReferenceField(User, reverse_delete_rule=CASCADE)`.
That registration is what `accounts.user_data.services` walks (chain delete, counts, export,
orphans), so a new app that hangs data off a user is covered by declaring its reference that
way, with no change here.
Uniqueness is enforced by unique indexes (never check-then-insert), so it holds under races and
across processes. Every query path has an index.
"""
from datetime import datetime, timezone
from importlib import import_module

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
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


def as_utc(value: datetime) -> datetime:
    """A stored time as an aware UTC datetime (a naive one, as some stores hand back, is UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def casefold_key(value: str) -> str:
    """The form in which usernames and emails are compared, stored and indexed (NFKC, then case
    folded: see accounts/users/identity.py)."""
    from accounts.users.identity import identity_key

    return identity_key(value)


def user_fields_contributed(modules: list[str], *, taken) -> tuple[dict, tuple]:
    """The fields other apps keep on the user document, and those of them an export leaves out.

    Each module of `modules` (settings.USER_FIELD_MODULES, read once, when `User` is declared)
    has `user_fields()`, returning {name: a new MongoEngine field}, and may have `EXPORT_EXCLUDE`.
    The fields are made by that call, after `User`'s own, so they come after them in the stored
    and exported order, in the order the modules are listed. A module must not import this one
    (it is read while `User` is being declared). A name declared twice stops the start."""
    fields: dict = {}
    export_exclude: tuple = ()
    for path in modules:
        module = import_module(path)
        for name, field in module.user_fields().items():
            if name in fields or name in taken:
                raise ImproperlyConfigured(f"USER_FIELD_MODULES: {path} declares the user field {name!r}, which is declared already.")
            fields[name] = field
        export_exclude += tuple(getattr(module, "EXPORT_EXCLUDE", ()))
    return fields, export_exclude


class User(Document):
    username = StringField(required=True, max_length=150)
    # Case-insensitive uniqueness: the folded forms carry the unique indexes.
    username_key = StringField(required=True, unique=True)
    email = StringField(required=True, max_length=254)
    email_key = StringField(required=True, unique=True)
    # Whether the owner proved the address is theirs (README, "Email"). Accounts stored before
    # verification existed have no such field and count as verified; new sign-ups store False.
    email_verified = BooleanField(default=True)
    # What the username looks like (accounts/users/identity.py): look-alikes share it, so the unique
    # index refuses them. Sparse: users stored before it existed have none until
    # `check_integrity --fix` computes theirs.
    username_skeleton = StringField(unique=True, sparse=True)
    password = StringField(required=True)  # a Django hasher's encoded hash; never rendered
    role = StringField(choices=ROLES, default=ROLE_USER)
    is_active = BooleanField(default=True)
    # Set while the account is in the trash (its TrashEntry holds who, when and why).
    in_trash = BooleanField(default=False)
    # Set with `in_trash` by a trash move and unset by its last step (accounts/admin/trash.py): a
    # move whose audit event or user.trashed event may be missing, which a re-run or
    # `check_integrity --repair` completes. Absent on accounts never moved.
    trash_pending = BooleanField(null=True)
    # Part of every token; raising it revokes every token the user holds at once.
    token_version = IntField(default=0)
    # The ids of the user's live sessions (accounts/sessions/services.py). Kept here, on the document that
    # authentication loads anyway, so that checking a token's session costs no round trip; added
    # and removed with atomic $addToSet/$pull. The Session documents hold the rest.
    session_ids = ListField(ObjectIdField())
    # Two-factor login is on (a confirmed TotpDevice exists); read by login with the password check.
    mfa_enabled = BooleanField(default=False)
    # Set by the chain delete before it deletes anything (accounts/user_data/dependents.py).
    deleting = BooleanField(default=False)
    # The chain delete's intent, written with the mark: who, why, since when. A delete cut short is
    # finished from these by a re-run or `check_integrity --repair` (accounts/user_data/services.py).
    deleting_by = ObjectIdField(null=True)
    deleting_reason = StringField(null=True)
    deleting_since = DateTimeField(null=True)
    # A copy of the user's LinkedId documents ({_id, linked_id, created_at} each), kept here so that
    # the join reads no other collection (README, "Performance"). The LinkedId documents are the
    # truth; accounts/users/linked_ids.py writes the copy after them, and check_integrity compares
    # the two. Users stored before the copy existed have none until `check_integrity --fix`.
    links_copy = ListField(DictField())
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)
    # What other apps keep on the user so that rendering it costs no query (the passkeys' count, a
    # profile's flags, the join's copy of the details): declared by the modules that
    # settings.USER_FIELD_MODULES names (as AUTH_USER_MODEL names a model), part of this class
    # as if written here, after the fields above. `accounts` reads none of them.
    _contributed, _contributed_export_exclude = user_fields_contributed(settings.USER_FIELD_MODULES, taken=set(vars()))
    vars().update(_contributed)

    meta = {
        "collection": "users",
        "indexes": [
            # The admin listing: live accounts in a stable order (newest first).
            {"fields": ["in_trash", "-created_at", "-_id"]},
            {"fields": ["role"]},
        ],
    }

    # Never in an export (accounts.user_data.services reads this on every document class).
    export_exclude = ("password", "links_copy", *_contributed_export_exclude)  # the copies: exported as their documents
    del _contributed, _contributed_export_exclude

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


class LoginFailure(Document):
    """Failed logins in a window that starts at the counter's first failure: per account
    (`account:<email>`, with the counts per client address inside) or per client address
    (`ip:<hash>`). Addresses appear only as keyed hashes. Incremented atomically; see
    accounts/users/lockout.py for the limits. The TTL index removes ended windows.
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


