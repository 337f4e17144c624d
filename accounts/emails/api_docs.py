"""What the API's users read about the email operations (verification and password reset), in
the voice of accounts/users/api_docs.py and through the same `documented(...)`. Applied when the app
is ready (accounts/apps.py)."""
from drf_spectacular.utils import extend_schema_view

from accounts.emails.views import EmailResendViewSet, EmailTokenViewSet
from common.openapi import documented

BAD_TOKEN = (
    '`{"token": ["This token is invalid, expired or already used."]}`: a token works once, for '
    "`EMAIL_VERIFICATION_HOURS` (verification, 72 by default) or `PASSWORD_RESET_MINUTES` (reset, 60), "
    "and a newer mail voids the older one."
)
THROTTLED = "Too many tries from this address: retry after `Retry-After` seconds."

extend_schema_view(
    verify=documented(
        "verify_email",
        "Verify an email address with the token from the mail",
        """
Anyone holding the token from a verification mail (sent at sign-up, after an email change, by
`POST /auth/email/resend`, or at a refused login when verification is mandatory). Marks the
address verified (`email_verified` in the user), provided it is still the account's address.
Front ends take the token from the link's `token` parameter and post it here.
""",
        tag="auth",
        statuses={200: "Verified.", 400: BAD_TOKEN, 429: THROTTLED},
    ),
    password_reset=documented(
        "request_password_reset",
        "Ask for a password reset link",
        """
Anyone. If a live account uses this address, a mail with a reset link goes to it (at most
`PASSWORD_RESET_MAILS_PER_HOUR` per account, 5 by default). The answer is the same, in about the
same time, whether or not an account uses the address, so it tells nothing about who has an
account. A new request voids the previous link.
""",
        tag="auth",
        statuses={202: "Accepted; a mail follows if an account uses the address.", 400: "Not a valid email address.", 429: THROTTLED},
    ),
    password_reset_confirm=documented(
        "confirm_password_reset",
        "Set a new password with the token from the reset mail",
        """
Anyone holding the token from a reset mail. Sets the new password (the same rules as at sign-up:
at least 8 characters, not common, not all digits, not too like the username or email); every
access and refresh token of the account stops working at once, failed-login lock-outs of the
account are lifted, and the address counts as verified. A refused password leaves the token
usable.
""",
        tag="auth",
        statuses={
            204: "The password is set; log in with it.",
            400: f"{BAD_TOKEN} Or the new password is refused (messages under `new_password`).",
            429: THROTTLED,
        },
    ),
)(EmailTokenViewSet)

extend_schema_view(
    resend=documented(
        "resend_verification_email",
        "Mail a fresh verification link",
        """
A user who is signed in (`Authorization: Bearer <access>`), for their own address. Mails a new link; the
previous one stops working. Limited per user (`THROTTLE_EMAIL_RESEND`, 5 an hour by default).
""",
        tag="auth",
        statuses={
            202: "A mail with a new link is on its way.",
            409: "The address is verified already.",
            429: "Too many resends for this user: retry after `Retry-After` seconds.",
        },
    ),
)(EmailResendViewSet)
