"""What the passkeys keep on the user document itself. Declared with `User`
(settings.USER_FIELD_MODULES, read by accounts/users/documents.py): this module imports nothing of
`accounts`, since it is read while `User` is being declared."""
from mongoengine import DateTimeField, IntField


def user_fields() -> dict:
    return {
        # How many passkeys the user has, kept by the services with atomic $inc (insert, then +1;
        # -1, then delete), so that it never counts a passkey that is gone: the guard that keeps a
        # user without a usable password from removing their last passkey reads it, and so does
        # the user representation (`passkeys_count`) and login's list of second factors, at no
        # extra query. `check_integrity --fix` recounts it after a crash between the two writes.
        "passkeys_count": IntField(default=0),
        # When the services last moved that count (set with each $inc): `check_integrity` leaves
        # alone a count moved within its grace period, whose other write may still be coming.
        "passkeys_changed_at": DateTimeField(),  # absent until the count first moves
    }
