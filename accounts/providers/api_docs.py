"""What the API's users read about provider sign-in (the words; the shapes are on the views)."""
from drf_spectacular.utils import extend_schema_view

from accounts.providers.views import IdentityViewSet, ProviderViewSet
from common.openapi import documented

NO_PROVIDER = "No provider of this id is configured (OIDC_PROVIDERS)."
UNREACHABLE = "The provider could not be reached, or answered something that is not OpenID Connect."
CODE_WORDS = """
`code` is the authorization code the provider gave the client's redirect URI; `code_verifier` the
PKCE verifier whose S256 challenge the client sent; `redirect_uri` the one the code was issued for;
`nonce`, when the client sent one, must be in the id token. The service exchanges the code at the
provider and checks the id token (signature by the provider's JWKS, issuer, audience, expiry,
nonce); a refused code or id token is a 400 saying which (`code` or `id_token`).
"""
NOT_OWNER = "The caller is neither this account's owner nor an admin."
NO_USER = "No such user: a malformed or unknown id, or an account in the trash (admins still see those)."

extend_schema_view(
    providers=[
        documented(
            "list_providers",
            "List the identity providers",
            "Anyone. The providers a person can sign in with (configured by OIDC_PROVIDERS), for sign-in buttons.",
            tag="providers",
            statuses={200: "The providers, in the configured order (empty when none is configured)."},
        )
    ],
    redirect=[
        documented(
            "provider_redirect",
            "Start a browser sign-in at a provider",
            """
Anyone, in a browser. Answers a redirect to the provider's sign-in page, with a PKCE challenge, a
`state` and a `nonce` that the service keeps (10 minutes, once) and a cookie binding them to this
browser. Register `<base>/auth/providers/{provider}/callback` as the redirect URI at the provider.
`next` is where the browser goes at the end: a path of this service (default: the browsable API) or
a URL on an origin of OIDC_ALLOWED_NEXT_ORIGINS.
""",
            tag="providers",
            statuses={302: "To the provider.", 400: "`next` is not an allowed place to send tokens to.", 404: NO_PROVIDER, 502: UNREACHABLE},
        )
    ],
    callback=[
        documented(
            "provider_callback",
            "Finish a browser sign-in (the provider's redirect)",
            """
Anyone: the provider sends the browser here. The `state` must be one this service issued, unused, unexpired,
for this provider and this browser (else 400, with no redirect: the service does not know where to).
Then the code is exchanged and the id token checked; the answer is a redirect to `next` with the
login's answer in the URL fragment (`#access=...&refresh=...&user_id=...`, or
`#mfa_required=true&mfa_token=...&mfa_methods=totp,recovery_code` for an account with two-factor
on: present it at POST /auth/mfa),
or with `#error=...&error_description=...` (e.g. `email_taken`, `invalid`, `email_not_verified`).
Back on this site's own paths, the browsable API's cookie is set too.
""",
            tag="providers",
            statuses={302: "To `next`, with the answer in the fragment.", 400: "Unknown, used, expired or foreign `state`.", 404: NO_PROVIDER},
        )
    ],
    token=[
        documented(
            "provider_token",
            "Sign in with a code a client obtained itself",
            f"""
Anyone: a client (a mobile or single-page app) that made the redirect to the provider itself and
got a code back. {CODE_WORDS}
The answer is the login's: tokens, or the two-factor answer. A first sign-in creates an account;
if an account here holds the provider's email, the identity joins it only when the provider says the
email is verified and the account's email is verified here, else 409 `email_taken`: sign in to that
account and connect the provider (POST /users/{{user_id}}/identities/{{provider}}). Lock-out and
EMAIL_VERIFICATION apply as for a password login.
""",
            tag="providers",
            statuses={
                200: "Signed in (tokens), or the two-factor step is next (`mfa_token`).",
                400: "The code or the id token was refused (the message says why).",
                401: "The account is disabled or in the trash.",
                403: "EMAIL_VERIFICATION is mandatory and the account's email is not verified.",
                404: NO_PROVIDER,
                409: "`email_taken`: an account here holds this email, and the two sides do not both vouch for it.",
                502: UNREACHABLE,
            },
        )
    ],
)(ProviderViewSet)

extend_schema_view(
    identities=[
        documented(
            "list_identities",
            "List the user's linked identities",
            "The account's owner or an admin (`Authorization: Bearer <access>`). The provider identities that sign in to this account, newest first.",
            tag="providers",
            statuses={200: "The identities.", 403: NOT_OWNER, 404: NO_USER},
        )
    ],
    identity_link=[
        documented(
            "connect_identity",
            "Connect a provider to the account",
            f"""
The account's owner only (`Authorization: Bearer <access>`): whoever connects must be the person at
the provider. {CODE_WORDS}
The identity then signs in to this account. 201 when connected now, 200 when it already was.
""",
            tag="providers",
            statuses={
                200: "It was connected to this account already.",
                201: "Connected.",
                400: "The code or the id token was refused (the message says why).",
                403: "The caller is not this account's owner.",
                404: f"{NO_USER} Or: {NO_PROVIDER}",
                405: "The last segment is an identity id (24 hex digits), not a provider: that path is for DELETE.",
                409: "This identity is connected to another account.",
                502: UNREACHABLE,
            },
        )
    ],
    identity_delete=[
        documented(
            "disconnect_identity",
            "Disconnect an identity",
            """
The account's owner or an admin (`Authorization: Bearer <access>`). The identity no longer signs in
to this account. The last way to sign in cannot go: an account with no password, no passkey and no
other identity answers 409 (set a password by a password reset, or add a passkey, first).
""",
            tag="providers",
            statuses={
                204: "Disconnected.",
                403: NOT_OWNER,
                404: f"{NO_USER} Or no such identity of this user.",
                405: "The last segment is not an identity id (24 hex digits): that path names a provider, to connect with POST.",
                409: "It is the last way to sign in.",
            },
        )
    ],
)(IdentityViewSet)
