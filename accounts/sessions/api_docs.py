"""What the API's users read about the session operations (see accounts/users/api_docs.py for the
reason these words live apart from the views)."""
from drf_spectacular.utils import extend_schema_view

from accounts.sessions.views import SessionViewSet
from accounts.openapi import NO_USER, NOT_OWNER, OWNER_OR_ADMIN
from common.openapi import documented


extend_schema_view(
    sessions=[
        documented(
            "list_sessions",
            "List the user's sessions",
            f"""
{OWNER_OR_ADMIN} Each login is a session: when it began, when it was last used (its last login or
token refresh), and the client address and user agent it was last used from. `current` marks the
session of the token that made this request. Most recently used first.
""",
            tag="sessions",
            methods=["GET"],
            statuses={200: "The live sessions.", 403: NOT_OWNER, 404: NO_USER},
        ),
        documented(
            "sessions_end_others",
            "End every other session",
            f"""
{OWNER_OR_ADMIN} Ends every session of the user but the caller's own (an admin's call ends them
all): their refresh and access tokens are refused from now on.
""",
            tag="sessions",
            methods=["DELETE"],
            statuses={204: "Ended.", 403: NOT_OWNER, 404: NO_USER},
        ),
    ],
    end=documented(
        "session_end",
        "End one session",
        f"""
{OWNER_OR_ADMIN} Ends the session: its refresh and access tokens are refused from the next request on
(ending one's own session is a logout).
""",
        tag="sessions",
        statuses={204: "Ended.", 403: NOT_OWNER, 404: "No such user, or no live session of theirs with this id."},
    ),
)(SessionViewSet)
