"""Reading identities."""
from accounts.users.documents import User
from accounts.providers.documents import ProviderIdentity


def identities_of(*, user: User) -> list[ProviderIdentity]:
    """The user's linked identities, newest first. One query (index user, -created_at)."""
    return list(ProviderIdentity.objects(user=user.id).order_by("-created_at"))
