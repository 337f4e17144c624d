"""Writing a document that hangs off a user while that user may be chain-deleted concurrently:
the protocol and its one guard live in accounts/users/guard.py (the user core, which every
capability may import); this name stays for the callers that knew it."""
from accounts.users.guard import owner_remains

__all__ = ["owner_remains"]
