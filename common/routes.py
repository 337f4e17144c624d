"""How a URL names a user: the path patterns of ids, and the viewset mixin that loads the user."""
from accounts.users import selectors
from accounts.users.documents import User

# Path patterns: ObjectId hex, and what a linked id may hold.
USER_ID = r"[0-9a-fA-F]{24}"
LINKED_ID = r"[A-Za-z0-9._:@-]{1,128}"


class UserRouteMixin:
    """For viewsets whose URLs name a user: `{user_id}` matches an ObjectId, and `get_object()`
    is that user (404 if malformed or unknown; a trashed one only for admins). There is no
    queryset: DRF's generic machinery (OPTIONS, the browsable API) calls `get_object()` too."""

    # The actions that finish a chain delete cut short: for them, an admin gets a user marked
    # `deleting` (everybody else gets a 404, as for every other action).
    resume_actions: tuple[str, ...] = ()
    lookup_url_kwarg = "user_id"
    lookup_value_regex = USER_ID

    def get_object(self) -> User:
        user = selectors.user_get(user_id=self.kwargs[self.lookup_url_kwarg], caller=self.request.user, deleting=self.action in self.resume_actions)
        self.check_object_permissions(self.request, user)
        return user
