"""What the API's users read about each accounts operation (OpenAPI summary, description,
operationId, tag, and what each status means), in one place so the API reads as one voice.

The views declare the shapes (request and response serializers); this module adds the words,
through `common.openapi.documented`. It is applied when the app is ready (accounts/apps.py).
Descriptions are written for callers: who may call, what happens, what each answer means. A
test (tests/test_openapi_docs.py) fails for an operation without them.
"""
from drf_spectacular.utils import extend_schema_view

from accounts.users.public_views import AuthViewSet, RegisterViewSet
from accounts.users.views import UserViewSet
from accounts.openapi import ADMIN_ONLY, LOCKED_OUT, NO_USER, NOT_OWNER, OWNER_OR_ADMIN, REAUTH, WRONG_PROOF
from common.openapi import documented


extend_schema_view(
    login=documented(
        "login",
        "Log in with email and password",
        """
Anyone. Checks the email and password and answers a pair of JSON Web Tokens: `access` (send it
as `Authorization: Bearer <access>`; it lives `ACCESS_TOKEN_MINUTES`, 5 by default) and `refresh`
(trade it at `POST /auth/refresh` for a new pair; it lives `REFRESH_TOKEN_DAYS`, 1 by default).

Each login begins a session (see `GET /users/{user_id}/sessions`) that its tokens belong to. For
a user with two-factor login on, the answer is `{"message": "Two-factor code required.",
"mfa_required": true, "mfa_token", "mfa_methods"}` instead, with no tokens: send the `mfa_token`
with a code (or a passkey's answer) to `POST /auth/mfa`. `mfa_methods` lists the second factors
the account has: `totp`, `webauthn` (a passkey), `recovery_code`. To sign in with a passkey and no
password at all, see `POST /auth/passkey` (it needs no second factor).

A wrong password, an unknown email and a trashed or deactivated account get the same 401, in
about the same time, so the answer does not tell whether an account exists. Repeated failures
for one account or from one address are refused with 429 for a while.
""",
        tag="auth",
        statuses={
            200: "Logged in: the tokens and the user's id; or, with two-factor login on, an `mfa_token` and no tokens.",
            401: '`{"detail": "Invalid email or password."}`, whatever the reason.',
            403: '`{"detail": "Email address is not verified.", "code": "email_not_verified"}`: with `EMAIL_VERIFICATION=mandatory`, after the right password (a fresh link is mailed).',
            429: "Too many failed logins for this account or from this address, or too many requests: retry after `Retry-After` seconds.",
        },
    ),
    refresh=documented(
        "refresh_tokens",
        "Trade a refresh token for a new pair",
        """
Anyone holding a refresh token. Answers a new `access` and `refresh`; the refresh token sent is
spent (rotation), so each one works once. Keep the new one. A spent refresh token sent again is
taken for a stolen copy: its whole session ends (the new pair too), and the person logs in again.
""",
        tag="auth",
        statuses={
            200: "A new access and refresh token.",
            401: "The refresh token is invalid, expired, already used (which ends its session) or revoked, or its session ended, or its user was deleted, trashed or changed their password.",
        },
    ),
    logout=documented(
        "logout",
        "Log out (end the refresh token's session)",
        """
Anyone holding a refresh token. Ends its session: the refresh token and every access token of
the session are refused from now on. Other devices of the same user stay signed in (a password
change signs out everywhere).
""",
        tag="auth",
        statuses={204: "Logged out.", 401: "The refresh token is invalid, expired or already used (a reuse, which ends its session too), or its session ended."},
    ),
)(AuthViewSet)

extend_schema_view(
    register=documented(
        "register",
        "Create an account",
        """
Anyone. Creates a user with the role `user` (there is no open sign-up for admins; unknown keys
such as `role` are ignored). `username`: 3-150 letters, digits, spaces and `. _ -`; `email`: a
valid address; both unique ignoring case. The password must pass the password rules: at least 8
characters, not common, not all digits, not too like the username or email.
""",
        tag="auth",
        statuses={
            201: "Created: the new user's id. Log in with `POST /login`.",
            400: "A field is missing or invalid, or the password is too weak (messages under `password`).",
            409: "The username is taken (`suggested_usernames` lists five free ones) or the email is taken.",
            429: "Too many registrations from this address: retry after `Retry-After` seconds.",
        },
    ),
)(RegisterViewSet)

extend_schema_view(
    link_id=documented(
        "link_id",
        "Link an external id to a user",
        f"""
{OWNER_OR_ADMIN} Links `linked_id` (1-128 letters, digits and `. _ : @ -`, such as a CRM's
id) to the user `user_id`. A user may hold several linked ids; a linked id belongs to one user
at most. Linking an id the user already holds again is a 200 and changes nothing.
""",
        tag="users",
        statuses={
            200: "Linked (or already linked to this user).",
            403: NOT_OWNER,
            404: NO_USER,
            409: "Another user holds this linked id.",
        },
    ),
    delete_user=documented(
        "delete_user",
        "Delete a user and all their data, now",
        f"""
{OWNER_OR_ADMIN} The chain delete: the user and every document of theirs in every collection
(details, linked ids, token records, stored files, trash entry) are removed at once and for good,
and their tokens stop working. Only a deletion record remains (who, when, why, how many documents
per collection); `reason` is kept in it. To delete reversibly, use `DELETE /users/{{user_id}}`
(the trash).
""",
        tag="users",
        statuses={200: "Deleted.", 403: NOT_OWNER, 404: f"{NO_USER} Also the answer to a second call."},
    ),
    retrieve=documented(
        "get_user",
        "Read a user",
        f"{OWNER_OR_ADMIN} The account: id, username, email, role, linked ids, dates, and what other parts "
        "of the service add (a picture's URL). Never a password or hash.",
        tag="users",
        statuses={200: "The user.", 403: NOT_OWNER, 404: NO_USER},
    ),
    partial_update=documented(
        "update_user",
        "Change a user's username, email or role",
        f"""
{OWNER_OR_ADMIN} Changes only the fields sent. `role` (`user` or `admin`) may be changed only by
an admin, and not on their own account. The new address is unverified until the link mailed to
it is used, and the old one gets a notice. The owner changing `email` is asked for the person
again: {REAUTH}
""",
        tag="users",
        statuses={
            200: "The user as it is now.",
            400: f"A field is invalid, or, for the owner's email change: {WRONG_PROOF}",
            403: f"{NOT_OWNER} Or a user tried to change a role, or an admin their own role.",
            404: NO_USER,
            409: "The username or email is taken by another account.",
            429: f"{LOCKED_OUT} Or too many changes of username or email by this caller.",
        },
    ),
    destroy=documented(
        "trash_user",
        "Move a user to the trash",
        f"""
{OWNER_OR_ADMIN} Soft delete: the account can no longer log in, every token of it stops working
at once, it is left out of listings and is a 404 to everyone but admins. Its data stays until an
admin restores it (`POST /trash/{{user_id}}/restore`) or purges it (`DELETE /trash/{{user_id}}`).
The query parameter `reason` is required (at most 500 characters) and kept with the trash entry.
""",
        tag="users",
        statuses={
            204: "In the trash.",
            400: "`reason` is missing, blank or too long.",
            403: NOT_OWNER,
            404: NO_USER,
        },
    ),
    export=documented(
        "export_user",
        "Export everything stored about a user",
        f"""
{OWNER_OR_ADMIN} A copy of every document the service holds about the user: the account (without
its password hash) under `user`, and under `collections` every document of theirs by collection
name (details, linked ids, token records, stored files' metadata, ...), the same collections
the chain delete removes. Values are JSON: ids and dates as strings.
""",
        tag="users",
        statuses={200: "Everything stored about the user.", 403: NOT_OWNER, 404: NO_USER},
    ),
    password=documented(
        "change_password",
        "Change one's password",
        f"""
The account's owner only (not an admin: an admin who could set passwords could become anybody).
The new password must pass the password rules. Every token of the user, on every device, stops
working at once: log in again. {REAUTH}
""",
        tag="users",
        statuses={
            204: "Changed; every session is signed out.",
            400: "The current password (or code) is wrong, or the new password is too weak (messages by field).",
            403: "The caller is not this account's owner.",
            404: NO_USER,
            429: LOCKED_OUT,
        },
    ),
    unlink=documented(
        "unlink_id",
        "Remove a linked id from a user",
        f"{OWNER_OR_ADMIN} The linked id is free again for any user.",
        tag="users",
        statuses={204: "Unlinked.", 403: NOT_OWNER, 404: f"{NO_USER} Or the user does not hold this linked id."},
    ),
    list=documented(
        "list_users",
        "List and search users",
        f"""
{ADMIN_ONLY} Users newest first (by id on ties, so pages are stable), trashed ones left out,
in pages of `per_page` (1-30, default 10). `q` matches part of the username or email, ignoring
case, as plain text; `starts_with` matches their start (fast at any size). The envelope says
`total`, `page`, `per_page`, `has_next`, `has_previous`.

For large listings page by cursor: `cursor=` (empty) is the first page, then each answer's
`next_cursor` (null on the last page); `page` is then null, and `total` is a lower bound unless
`total_exact` is true (`total=exact` counts every user).
""",
        tag="admin",
        statuses={200: "One page of users.", 400: "`page` below 1 or past the end, or `per_page` outside 1-30.", 403: "The caller is not an admin."},
    ),
    by_linked_id=documented(
        "get_user_by_linked_id",
        "Find the user holding a linked id",
        f"{ADMIN_ONLY} The user this external id is linked to.",
        tag="admin",
        statuses={200: "The user.", 403: "The caller is not an admin.", 404: "No user holds this linked id."},
    ),
)(UserViewSet)
