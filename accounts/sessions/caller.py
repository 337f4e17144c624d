"""`request.user` for a bearer or cookie token: the caller, built as a MongoEngine `User` only when
something asks for more than who they are.

Authentication has just read the caller's stored document (accounts/sessions/selectors.py, one
`find_one`) and checked it. What most requests then ask of `request.user` is who it is: DRF's
`IsAuthenticated`, the owner-or-admin permissions, the request log and the views that render the
caller from that document (`GET /users/me`) read the id, the role and `is_authenticated`, nothing
more. Building a `User` from the document (MongoEngine's `_from_son`: a conversion, a default and
change tracking for each of its ~30 fields, two signals) was about a tenth of such a request's CPU
(issue 26, `bench/profile_join.py`).

`Caller` is Django's `LazyObject` around that `User`. `id`/`pk`, `role`, `is_admin`,
`is_authenticated`, `is_anonymous` and truthiness answer from the document read; anything else (a
field, `save()`, `isinstance(caller, User)`, a `ReferenceField` assignment, equality, `str`) builds
the `User` once, exactly as authentication built it before, and answers from it from then on (so a
change made to it is what these attributes answer too). Nothing is cached across requests: the
document is the one this request read.
"""
import copy

from django.utils.functional import LazyObject, empty

from accounts.sessions.prefetch import caller_document_keep
from accounts.users.documents import User
from accounts.users.user_extensions import USER_COPIES


def user_from_document(document: dict) -> User:
    """The `User` of a stored document, with the document kept for the join (prefetch.py). The
    copies the user carries for the join (user_copy_add) are read from the document by the join
    alone: the `User` is built without them (MongoEngine saves only the fields a request changes,
    so their defaults on this instance are never written back)."""
    user = User._from_son({key: value for key, value in document.items() if key not in USER_COPIES})
    caller_document_keep(user, document)
    return user


class Caller(LazyObject):
    """The caller of a request, as `User`, built on first need from `document` (see the module)."""

    def __init__(self, document: dict):
        super().__init__()
        self.__dict__["_document"] = document

    def _setup(self) -> None:
        self._wrapped = user_from_document(self.__dict__["_document"])

    def _built(self) -> User | None:
        wrapped = self.__dict__["_wrapped"]
        return None if wrapped is empty else wrapped

    @property
    def id(self):
        user = self._built()
        return self.__dict__["_document"]["_id"] if user is None else user.id

    pk = id

    @property
    def role(self) -> str:
        user = self._built()
        return self.__dict__["_document"].get("role", User.role.default) if user is None else user.role

    # `User`'s own rule, read against the role above: one definition of who is an admin.
    is_admin = User.is_admin

    @property
    def son(self) -> dict:
        """The stored document, for prefetch.py's `caller_document` (no `User` needed)."""
        return self.__dict__["_document"]

    # What DRF and simplejwt ask of request.user: `User`'s own answers.
    is_authenticated = User.is_authenticated
    is_anonymous = User.is_anonymous

    def __bool__(self) -> bool:
        return True

    def __copy__(self):
        if self._built() is None:
            self._setup()
        return copy.copy(self._wrapped)

    def __deepcopy__(self, memo):
        if self._built() is None:
            self._setup()
        return copy.deepcopy(self._wrapped, memo)
