"""Reads of passkeys."""
from accounts.users.documents import User
from accounts.mfa.passkeys.documents import Passkey


def passkeys_list(*, user: User) -> list[Passkey]:
    """The user's passkeys, oldest first (names and dates are all a caller sees). One query."""
    return list(Passkey.objects(user=user.id).only("id", "name", "created_at", "last_used_at").order_by("created_at", "id").no_dereference())
