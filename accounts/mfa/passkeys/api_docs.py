"""What the API's users read about the passkey operations (see accounts/users/api_docs.py for the
convention). Applied when the app is ready (accounts/mfa/passkeys/apps.py)."""
from drf_spectacular.utils import extend_schema_view

from accounts.mfa.passkeys.views import PasskeyLoginViewSet, PasskeyViewSet
from common.openapi import documented

OWNER_ONLY = "The account's owner only (`Authorization: Bearer <access>`); not even an admin, since a passkey is a way into the account for whoever holds it."
OWNER_OR_ADMIN = "The account's owner or an admin (`Authorization: Bearer <access>`)."
NOT_OWNER = "The caller is neither this account's owner nor an admin (or, for an owner-only operation, not the owner)."
NO_USER = "No such user: a malformed or unknown id, or an account in the trash (admins still see those)."
CEREMONY = """
A ceremony is two calls. The first answers `{"ceremony", "publicKey"}`: `publicKey` holds the
WebAuthn options in their JSON form (binary fields as base64url text). In a browser, give them to
`PublicKeyCredential.parseCreationOptionsFromJSON()` (adding) or `parseRequestOptionsFromJSON()`
(signing in), pass the result to `navigator.credentials.create({publicKey})` or `.get({publicKey})`,
and send the credential's `toJSON()` back with the `ceremony`. The service keeps the challenge
(5 minutes, one use): an answer to another ceremony, a second answer to the same one, or one
signed for another origin or relying party is refused. The page's origin must be listed in the
service's `WEBAUTHN_ORIGINS`, and `WEBAUTHN_RP_ID` must be its host or a parent domain of it.
"""
REFUSED = "The answer was refused (`credential`: why; `ceremony`: unknown, expired, used, or not this request's), or the body is malformed."

extend_schema_view(
    options_create=documented(
        "passkey_registration_options",
        "Start adding a passkey",
        f"""
{OWNER_ONLY} Adding a way to sign in is a sensitive change: send the account's password again
(`current_password`). Answers the creation options for the authenticator: a discoverable
credential (a passkey the browser can offer without a name typed) with user verification, and
no attestation (unless the service sets `WEBAUTHN_ATTESTATION=direct`); the account's passkeys
are excluded. The ceremony belongs to this user and this session.
{CEREMONY}
Then `POST /users/{{user_id}}/passkeys` with the ceremony and the credential.
""",
        tag="passkeys",
        statuses={
            200: "The ceremony and its creation options.",
            400: "The proof (`current_password`, or `code` / `recovery_code`) is missing or wrong.",
            403: NOT_OWNER,
            404: NO_USER,
            409: "The account holds the most passkeys it may (20).",
            429: "Too many wrong proofs for this account from this address (the login's lock-out), or too many such requests (`THROTTLE_REAUTH`): retry after `Retry-After` seconds.",
        },
    ),
    passkeys=[
        documented(
            "list_passkeys",
            "List the user's passkeys",
            f"""
{OWNER_OR_ADMIN} Each passkey's `id`, `name`, `created_at` and `last_used_at` (null until it
signs in once), oldest first. Nothing about the key itself is ever shown.
""",
            tag="passkeys",
            methods=["GET"],
            statuses={200: "The passkeys.", 403: NOT_OWNER, 404: NO_USER},
        ),
        documented(
            "passkey_register",
            "Add a passkey",
            f"""
{OWNER_ONLY} Finishes the ceremony of `POST /users/{{user_id}}/passkeys/options`: `ceremony`,
the `credential` (`RegistrationResponseJSON`, what `navigator.credentials.create()` gave, as its
`toJSON()` writes it) and an optional `name` (default: the date). The service verifies the
attestation (challenge, origin, relying party, user verification, signature) and keeps the
public key. From now on the passkey signs in alone (`POST /auth/passkey`) and, for a user with
two-factor on, answers the second step (`POST /auth/mfa`).
{CEREMONY}
""",
            tag="passkeys",
            methods=["POST"],
            statuses={201: "Added.", 400: REFUSED, 403: NOT_OWNER, 404: NO_USER, 409: "This passkey is registered already, or the account holds 20."},
        ),
    ],
    passkey=[
        documented(
            "passkey_rename",
            "Rename a passkey",
            f"{OWNER_ONLY} Gives the passkey a new `name` (1-64 characters).",
            tag="passkeys",
            methods=["PATCH"],
            statuses={200: "Renamed.", 403: NOT_OWNER, 404: "No such user, or no passkey of theirs with this id."},
        ),
        documented(
            "passkey_remove",
            "Remove a passkey",
            f"""
{OWNER_OR_ADMIN} The passkey stops working at once. An account without a usable password (one
made by a provider sign-in, before any password reset) keeps its last passkey: 409.
""",
            tag="passkeys",
            methods=["DELETE"],
            statuses={204: "Removed.", 403: NOT_OWNER, 404: "No such user, or no passkey of theirs with this id.", 409: "It is the account's last way to sign in."},
        ),
    ],
)(PasskeyViewSet)

extend_schema_view(
    login_options=documented(
        "passkey_login_options",
        "Start signing in with a passkey",
        f"""
Anyone. Answers the request options of a passwordless sign-in. Without `email`, the allow list
is empty: the browser offers the passkeys it holds for this service (discoverable credentials).
With `email`, the options list that account's passkeys; an email of no account gets options
that look the same (stable decoy ids), so the answer does not tell whether an account exists.
User verification is required (the authenticator's PIN or biometric).
{CEREMONY}
Then `POST /auth/passkey` with the ceremony and the credential.
""",
        tag="auth",
        statuses={200: "The ceremony and its request options.", 429: "Too many requests: retry after `Retry-After` seconds."},
    ),
    login=documented(
        "passkey_login",
        "Sign in with a passkey",
        f"""
Anyone. Finishes the ceremony of `POST /auth/passkey/options` with the `credential`
(`AuthenticationResponseJSON`, what `navigator.credentials.get()` gave, as `toJSON()` writes it).
Answers as `POST /login` does: `{{"message": "Login successful", "user_id", "access", "refresh"}}`,
a new session. No second factor is asked, even with two-factor on: a passkey with user
verification is two factors already (something held, unlocked by something known or by a
biometric). The signature counter must go up: an authenticator whose counter went back (a copy)
is refused and the event audited. A refused answer counts as a failed login (the same lock-out
as passwords); with `EMAIL_VERIFICATION=mandatory` an unverified account is refused after the
right answer.
{CEREMONY}
""",
        tag="auth",
        statuses={
            200: "Signed in: the tokens and the user's id.",
            400: REFUSED,
            403: '`{"detail": "Email address is not verified.", "code": "email_not_verified"}`: with `EMAIL_VERIFICATION=mandatory`.',
            429: "Too many failed logins for this account or from this address: retry after `Retry-After` seconds.",
        },
    ),
    mfa_options=documented(
        "mfa_webauthn_options",
        "Start answering the second factor with a passkey",
        f"""
Anyone holding an `mfa_token` from `POST /login` (a user with two-factor on whose login answer
lists `webauthn` in `mfa_methods`). Answers request options listing the account's passkeys,
bound to this `mfa_token`. Send the credential with the `ceremony` and the `mfa_token` to
`POST /auth/mfa` (instead of a `code`).
{CEREMONY}
""",
        tag="auth",
        statuses={
            200: "The ceremony and its request options.",
            400: "The account has no passkey (answer with a code), or the body is malformed.",
            401: "The `mfa_token` is invalid, expired or used already.",
            429: "Too many requests: retry after `Retry-After` seconds.",
        },
    ),
)(PasskeyLoginViewSet)
