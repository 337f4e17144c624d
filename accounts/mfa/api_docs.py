"""What the API's users read about the two-factor operations (see accounts/users/api_docs.py for
the reason these words live apart from the views)."""
from drf_spectacular.utils import extend_schema_view

from accounts.mfa.views import MfaLoginViewSet, TwoFactorViewSet
from accounts.openapi import LOCKED_OUT, NO_USER, NOT_THE_OWNER, OWNER_ONLY, REAUTH, WRONG_PROOF
from common.openapi import documented

extend_schema_view(
    totp=[
        documented(
            "totp_enrol_start",
            "Start turning on two-factor login (TOTP)",
            f"""
{OWNER_ONLY} Answers a new secret and its `otpauth://` URI (show it as a QR code) for an
authenticator app. Two-factor login is not on until a code from the app is confirmed at
`POST /users/{{user_id}}/mfa/totp/confirm`; starting again replaces the pending secret.
{REAUTH}
""",
            tag="two-factor",
            methods=["POST"],
            statuses={200: "The secret and its URI, shown this once.", 400: WRONG_PROOF, 403: NOT_THE_OWNER, 404: NO_USER, 409: "Two-factor login is on already.", 429: LOCKED_OUT},
        ),
        documented(
            "totp_disable",
            "Turn two-factor login off",
            f"""
{OWNER_ONLY} Turns two-factor login off: the secret and the recovery codes are deleted.
{REAUTH}
""",
            tag="two-factor",
            methods=["DELETE"],
            statuses={204: "Off.", 400: WRONG_PROOF, 403: NOT_THE_OWNER, 404: NO_USER, 429: LOCKED_OUT},
        ),
    ],
    totp_confirm=documented(
        "totp_enrol_confirm",
        "Confirm TOTP with a code and turn two-factor login on",
        f"""
{OWNER_ONLY} With a six-digit code from the authenticator app, turns two-factor login on and answers
ten recovery codes, shown this once: keep them somewhere safe. Each works once, instead of a code.
""",
        tag="two-factor",
        statuses={
            200: "On: the recovery codes.",
            400: "The code is wrong, or no enrolment was started.",
            403: NOT_THE_OWNER,
            404: NO_USER,
            409: "Two-factor login is on already.",
        },
    ),
    recovery_codes=documented(
        "recovery_codes_regenerate",
        "Replace the recovery codes",
        f"""
{OWNER_ONLY} Answers ten new recovery codes, shown this once; the old ones stop working.
{REAUTH}
""",
        tag="two-factor",
        statuses={200: "The new recovery codes.", 400: WRONG_PROOF, 403: NOT_THE_OWNER, 404: NO_USER, 409: "Two-factor login is not on.", 429: LOCKED_OUT},
    ),
    reset=documented(
        "mfa_reset",
        "Reset a user's two-factor login (admin)",
        f"""
Admins only. Turns the user's two-factor login off (a lost phone and lost recovery codes); the
user logs in with the password alone until they turn it on again. Recorded in the audit log. No
body for another user's. An admin's own goes by the owner's rules (as `DELETE
/users/{{user_id}}/mfa/totp`): {REAUTH}
""",
        tag="admin",
        statuses={
            204: "Off.",
            400: f"For an admin's own: {WRONG_PROOF}",
            403: "Not an admin.",
            404: NO_USER,
            429: f"{LOCKED_OUT} Or too many re-authentications by this caller (`THROTTLE_REAUTH`).",
        },
    ),
)(TwoFactorViewSet)

extend_schema_view(
    mfa=documented(
        "login_second_factor",
        "Log in: the second factor",
        """
Anyone holding an `mfa_token` from `POST /login` (a user with two-factor login on). With a
six-digit `code` from the authenticator app, one of the `recovery_code`s, or a passkey's answer
(`ceremony` from `POST /auth/mfa/webauthn/options` and the `credential` the browser's
`navigator.credentials.get()` gave, as its `toJSON()` writes it), answers the login body with the
tokens. Which of these the account has is listed in the login's `mfa_methods`. The `mfa_token`
lives 5 minutes and works for one login; a code, and a passkey's answer, work once. A wrong code
or a refused answer is a 400 and counts as a failed login: past the limit the answer is 429.
""",
        tag="auth",
        statuses={
            200: "Logged in: the tokens and the user's id.",
            400: "The code or recovery code is wrong or used already, the passkey's answer was refused (`credential`: why; `ceremony`: unknown, expired, used or another login's), or not exactly one factor was given.",
            401: "The `mfa_token` is invalid, expired or used already.",
            429: "Too many failed logins for this account or from this address: retry after `Retry-After` seconds.",
        },
    ),
)(MfaLoginViewSet)
