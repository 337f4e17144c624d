"""Sessions: one per login, holding the one refresh token that may be used next."""
from mongoengine import CASCADE, DateTimeField, Document, ReferenceField, StringField

from accounts.users.documents import User, now


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
