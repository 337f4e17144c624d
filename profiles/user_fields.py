"""What `profiles` keeps on the user document itself, so that rendering a user costs no query of
its own collections. Declared with `User` (settings.USER_FIELD_MODULES, read by
accounts/users/documents.py), so this module imports nothing of `accounts`: it is read while
`User` is being declared. Written by profiles.services only.
"""
from mongoengine import BooleanField, DictField

# A copy of the user's Details document, kept on the user so that the join (`/users/me`,
# `/users/user_with_details/{id}`) costs the one read of the user that authentication makes
# anyway: {"v": the copied Details' `version`, "doc": that document as stored, or None}. The
# Details document is the truth; the copy is written only by profiles.services.details_upsert, after
# it and conditioned on a higher version, so the last write wins on both (README, "Performance").
# Users stored before the copy existed have no such field: their join reads the Details document
# ($lookup) until `check_integrity --fix` makes their copy. Not exported: the Details document is.
DETAILS_COPY = "details_copy"
EXPORT_EXCLUDE = (DETAILS_COPY,)


def user_fields() -> dict:
    return {
        # Whether the user has an Avatar (the Avatar is the truth), so that rendering `avatar_url`
        # (profiles.serializers.AvatarUrlField) costs no query.
        "has_avatar": BooleanField(default=False),
        DETAILS_COPY: DictField(default=lambda: {"v": 0, "doc": None}),
    }
