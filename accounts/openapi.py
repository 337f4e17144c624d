"""OpenAPI pieces of `accounts` alone: the 409 of a taken username, and the bearer scheme of
MongoJWTAuthentication. The browser login's cookie is left out of the schema on purpose
(SPECTACULAR_SETTINGS["AUTHENTICATION_WHITELIST"]): API clients, and Swagger UI's "Authorize",
send the bearer token. The shapes both apps use are in common/openapi.py."""
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

UsernameConflict = inline_serializer(
    "Conflict",
    {"detail": serializers.CharField(), "suggested_usernames": serializers.ListField(child=serializers.CharField(), required=False)},
)

# Login with EMAIL_VERIFICATION=mandatory and an unverified address (after the right password).
EmailNotVerifiedOutput = inline_serializer("EmailNotVerified", {"detail": serializers.CharField(), "code": serializers.CharField()})
# Answered by a change that would leave no active admin (accounts/admin/admin_guard.py).
LAST_ADMIN_409 = OpenApiResponse(
    inline_serializer("LastAdmin", {"detail": serializers.CharField()}), description="It would leave the service without an active admin."
)

# Phrases every capability's api_docs.py uses (and profiles/api_docs.py), written once.
OWNER_OR_ADMIN = "The account's owner or an admin (`Authorization: Bearer <access>`)."
OWNER_ONLY = "The account's owner only (`Authorization: Bearer <access>`); not even an admin, since whoever holds the second factor must be the person."
ADMIN_ONLY = "Admins only (`Authorization: Bearer <access>` of a user whose role is `admin`)."
NOT_OWNER = "The caller is neither this account's owner nor an admin."
NOT_THE_OWNER = "The caller is not this account's owner."
NO_USER = "No such user: a malformed or unknown id, or an account in the trash (admins still see those)."
# The re-authentication gate (accounts/users/reauth.py), said the same way by every operation behind it.
REAUTH = (
    "Needs the person again: `current_password`, or, with two-factor on, a TOTP `code` or an unused "
    "`recovery_code` instead. A wrong one counts as a failed login of the account from this address, "
    "as at `POST /login`; past the lock-out's limit the answer is 429, even for the right one."
)
WRONG_PROOF = "`current_password` (or `code`, `recovery_code`) is missing or wrong."
LOCKED_OUT = "Too many failed logins of this account from this address: retry after `Retry-After` seconds."


class MongoJWTScheme(SimpleJWTScheme):
    target_class = "accounts.sessions.authentication.MongoJWTAuthentication"
    name = "jwtAuth"


class BodyOnDeleteSchema(AutoSchema):
    """For views with a DELETE that takes a JSON body (API.md: turning TOTP off needs the current
    password): drf-spectacular documents a request body only for PUT, PATCH and POST."""

    def _get_request_body(self, direction="request"):
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        self.method = "POST"  # read the body as for POST, then put the method back
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"
