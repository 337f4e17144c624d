"""What hangs off a user in `profiles`: details and the avatar. Each references the user with
CASCADE, so the chain delete in `accounts` reaches it without knowing about it."""
from mongoengine import (
    CASCADE,
    DateTimeField,
    DictField,
    Document,
    FileField,
    IntField,
    ReferenceField,
    StringField,
)

from accounts.users.documents import User, now
from profiles.user_fields import DETAILS_COPY  # noqa: F401  (User's `has_avatar` and `details_copy` are declared there)

# The GridFS bucket: the bytes live in `avatars.files` and `avatars.chunks`.
AVATAR_BUCKET = "avatars"
AVATAR_CONTENT_TYPES = ("image/jpeg", "image/png")

# On the user document itself (profiles/user_fields.py, declared with `User`): `has_avatar`,
# whether the user has an Avatar (the Avatar is the truth), and `details_copy`, the join's copy of
# the Details document.


def avatar_path(user_id) -> str:
    return f"/users/{user_id}/avatar"


class Details(Document):
    """One per user: address, phone and free-form preferences."""

    user = ReferenceField(User, required=True, unique=True, reverse_delete_rule=CASCADE)
    address = StringField(max_length=500, null=True)
    phone = StringField(max_length=16, null=True)
    preferences = DictField()
    created_at = DateTimeField(default=now)
    updated_at = DateTimeField(default=now)
    # Raised by one on every write (atomically, with it): the copy on the user holds the version it
    # copied, so that of two racing writers the later copy wins and a stale one can be recognised.
    version = IntField(default=0)

    meta = {"collection": "details"}
    # Bookkeeping, not the user's data.
    export_exclude = ("version",)


class Avatar(Document):
    """One per user: the re-encoded image in GridFS and what an HTTP response needs about it.

    Declaring the bytes as a FileField is what lets the generic chain delete and the integrity
    check in `accounts` find and remove the GridFS file and its chunks. No uploaded file name is
    kept anywhere.
    """

    user = ReferenceField(User, required=True, unique=True, reverse_delete_rule=CASCADE)
    file = FileField(collection_name=AVATAR_BUCKET, required=True)
    content_type = StringField(required=True, choices=AVATAR_CONTENT_TYPES)
    # Hex SHA-256 of the stored bytes; the HTTP ETag is this value quoted.
    etag = StringField(required=True)
    size = IntField(required=True, min_value=1)
    width = IntField(required=True)
    height = IntField(required=True)
    updated_at = DateTimeField(default=now)

    meta = {"collection": "avatars"}
