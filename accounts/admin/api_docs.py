"""What the API's users read about the trash operations (see accounts/users/api_docs.py for the
reason these words live apart from the views)."""
from drf_spectacular.utils import extend_schema_view

from accounts.admin.views import TrashViewSet
from accounts.openapi import ADMIN_ONLY
from common.openapi import documented

extend_schema_view(
    list=documented(
        "list_trash",
        "List the trash",
        f"{ADMIN_ONLY} Accounts in the trash, most recently trashed first, with who trashed them, when and why; paged as `GET /users`.",
        tag="admin",
        statuses={200: "One page of trash entries.", 400: "`page` below 1 or past the end, or `per_page` outside 1-30.", 403: "The caller is not an admin."},
    ),
    bulk_trash=documented(
        "trash_users_bulk",
        "Move many users to the trash",
        f"""
{ADMIN_ONLY} Moves up to 1000 accounts to the trash at once, each as `DELETE /users/{{user_id}}`
does (reversible). The answer sorts the ids: `deleted_now`, `already_deleted` (in the trash
before), `not_found` (no such user). Permanent bulk deletion is `manage.py delete_users`.
""",
        tag="admin",
        statuses={
            200: "Every id sorted into one of the three lists.",
            400: "`ids` missing, empty, over 1000 or not ids, or `reason` missing.",
            403: "The caller is not an admin.",
        },
    ),
    restore=documented(
        "restore_user",
        "Restore a user from the trash",
        f"{ADMIN_ONLY} The account is active again with all its data; its old tokens stay revoked (the user logs in again).",
        tag="admin",
        statuses={200: "The restored user.", 403: "The caller is not an admin.", 404: "No such user in the trash."},
    ),
    destroy=documented(
        "purge_user",
        "Delete a trashed user for good",
        f"{ADMIN_ONLY} The chain delete of an account in the trash: the user and all their data are gone; a deletion record remains.",
        tag="admin",
        statuses={204: "Purged.", 403: "The caller is not an admin.", 404: "No such user in the trash (restore or trash it first)."},
    ),
)(TrashViewSet)
