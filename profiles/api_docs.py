"""What the API's users read about each profiles operation (see accounts/users/api_docs.py for the
convention). Applied when the app is ready (profiles/apps.py)."""
from drf_spectacular.utils import extend_schema_view

from accounts.openapi import NO_USER, NOT_OWNER, OWNER_OR_ADMIN
from common.openapi import documented
from profiles import views

extend_schema_view(
    add_details=documented(
        "add_details",
        "Add or update a user's details",
        f"""
{OWNER_OR_ADMIN} Creates the details of the user `user_id`, or updates only the fields sent
(the others are kept). `address`: free text; `phone`: E.164 (`+` and 7-15 digits);
`preferences`: an object of at most 50 keys whose values are strings, numbers, booleans or null
(it replaces the stored preferences as a whole).
""",
        tag="users",
        statuses={200: "Stored.", 403: NOT_OWNER, 404: NO_USER},
    ),
    user_with_details=documented(
        "get_user_with_details",
        "Read a user joined with their details",
        f"""
{OWNER_OR_ADMIN} The user (`_id`, `username`, `email`, `role`, `linked_id`: the most recently
linked id or null, `linked_ids`: all of them, oldest first, `created_at`) and their details
(`address`, `phone`, `preferences`), or `details: null` when none were added.
""",
        tag="users",
        statuses={200: "The user and their details.", 403: NOT_OWNER, 404: NO_USER},
    ),
    me=documented(
        "get_me",
        "Read the signed-in user",
        "Anyone signed in. The caller, in the shape of `GET /users/user_with_details/{user_id}`.",
        tag="users",
        statuses={200: "The caller and their details."},
    ),
    avatar=[
        documented(
            "upload_avatar",
            "Upload or replace a user's avatar",
            f"""
{OWNER_OR_ADMIN} A multipart form with the image in the field `file`: a JPEG or PNG of at most
`AVATAR_MAX_BYTES` (5 MB by default), its type decided by decoding it, never by its name. The
image is stored re-encoded, without EXIF (GPS included), text chunks or other metadata, turned
upright. The answer's `avatar_url` is where to read it.
""",
            tag="avatars",
            methods=["PUT"],
            statuses={
                200: "Stored; `avatar_url` points at it.",
                400: "No `file`, or not a JPEG or PNG, damaged, or more than `AVATAR_MAX_PIXELS` pixels.",
                403: NOT_OWNER,
                404: NO_USER,
                413: "Larger than `AVATAR_MAX_BYTES`.",
                415: "The body is not `multipart/form-data`.",
                503: "Too many images are being decoded at once; try again after `Retry-After` seconds.",
            },
        ),
        documented(
            "get_avatar",
            "Download a user's avatar",
            f"""
{OWNER_OR_ADMIN} The image bytes, with their own `Content-Type` (`image/jpeg` or `image/png`; a
client that asks for `Accept: application/octet-stream` alone gets that type instead), an `ETag`
and `Cache-Control: private, no-cache`. Send the ETag back in `If-None-Match` to get a 304 when
the image has not changed.
""",
            tag="avatars",
            methods=["GET"],
            statuses={
                200: "The image.",
                304: "Not modified: the ETag in `If-None-Match` is the current one.",
                403: NOT_OWNER,
                404: f"{NO_USER} Or the user has no avatar.",
            },
        ),
        documented(
            "delete_avatar",
            "Delete a user's avatar",
            f"{OWNER_OR_ADMIN} The image and its stored file are removed.",
            tag="avatars",
            methods=["DELETE"],
            statuses={204: "Deleted.", 403: NOT_OWNER, 404: f"{NO_USER} Or the user has no avatar."},
        ),
    ],
)(views.ProfileViewSet)
