"""Reads of the trash, each with its query count."""
from accounts.admin.documents import TrashEntry
from accounts.users.documents import User


def trash_query():
    """Trashed accounts, most recently trashed first (a QuerySet, for the pagination)."""
    return TrashEntry.objects.order_by("-trashed_at", "-id").no_dereference()


def trash_rows(entries: list[TrashEntry]) -> list[dict]:
    """Trash entries joined with their users' names and emails. One query. A user being purged
    (chain-deleted) shows no name or email, as one gone (issue 20: never read as if alive)."""
    ids = [entry.user.id for entry in entries]
    users = {u.id: u for u in User.objects(id__in=ids, deleting__ne=True).only("id", "username", "email")}
    rows = []
    for entry in entries:
        user = users.get(entry.user.id)
        rows.append(
            {
                "user_id": str(entry.user.id),
                "username": user.username if user else None,
                "email": user.email if user else None,
                "deleted_by": str(entry.trashed_by),  # the contract's keys
                "deleted_at": entry.trashed_at,
                "reason": entry.reason,
            }
        )
    return rows
