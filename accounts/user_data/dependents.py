"""Writing a document that hangs off a user while that user may be chain-deleted concurrently.

The race: a request loaded the user, then writes a dependent document (a linked id, a
login-failure counter, or another app's: details, a stored file) while another request
chain-deletes that user. Without care
the write can land after the delete removed the user's dependents, leaving an orphan.

The protocol (no transaction needed, so it holds on any MongoDB, standalone included):
- the chain delete first marks its users `deleting` (one update), then deletes the dependents,
  then the users (accounts/user_data/services.py);
- a writer writes first, then asks `owner_remains`; when the answer is no, it removes what it
  wrote (and answers 404).
Either the writer's check saw the user unmarked, so it ran before the mark, so the write landed
before the dependents were deleted and the delete took it; or the check saw the mark (or no
user), and the writer removes its own write. Once both finish, nothing is left over. It costs the
writer one indexed read by `_id`.
"""
from bson import ObjectId

from accounts.users.documents import User


def owner_remains(*, user_id: ObjectId) -> bool:
    """True while the user exists and no chain delete of theirs has begun."""
    return User._get_collection().find_one({"_id": user_id, "deleting": {"$ne": True}}, {"_id": 1}) is not None
