"""The passkey rows of the one round-trip budget table (tests/test_round_trip_budgets.py): their
bodies need a ceremony begun first, which this prepares (through the same client, before the
count starts)."""
from django.conf import settings

from accounts.mfa.passkeys.tests.authenticator import SoftAuthenticator
from accounts.mfa.passkeys.tests.conftest import passkey_add
from tests.conftest import PASSWORD

CASES = [
    ("passkey options", "user", "post", "/users/{id}/passkeys/options", {"current_password": PASSWORD}, 8),
    ("passkey add", "user", "post", "/users/{id}/passkeys", "PASSKEY_REGISTER", 9),
    ("passkeys list", "user", "get", "/users/{id}/passkeys", "WITH_PASSKEY", 2),
    ("passkey rename", "user", "patch", "/users/{id}/passkeys/{passkey}", "PASSKEY_RENAME", 2),
    ("passkey remove", "user", "delete", "/users/{id}/passkeys/{passkey}", "WITH_PASSKEY", 6),
    ("passkey sign-in options", None, "post", "/auth/passkey/options", {"email": "alice@example.com"}, 5),
    ("passkey sign-in", None, "post", "/auth/passkey", "PASSKEY_LOGIN", 12),
    ("mfa passkey options", None, "post", "/auth/mfa/webauthn/options", "PASSKEY_MFA_OPTIONS", 6),
    ("mfa with a passkey", None, "post", "/auth/mfa", "PASSKEY_MFA", 12),
]


def passkey_case(marker: str, *, path: str, user, client) -> tuple[str, dict | None]:
    """(path, body) for a passkey row: its passkey registered, its ceremony begun."""
    authenticator = SoftAuthenticator(origin=settings.WEBAUTHN_ORIGINS[0])
    if marker == "PASSKEY_REGISTER":
        options = client.post(f"/users/{user.id}/passkeys/options", {"current_password": PASSWORD}, format="json").json()
        return path, {"ceremony": options["ceremony"], "credential": authenticator.create(options["publicKey"])}
    passkey = passkey_add(user, authenticator)
    path = path.replace("{passkey}", str(passkey.id))
    if marker == "PASSKEY_RENAME":
        return path, {"name": "renamed"}
    if marker == "PASSKEY_LOGIN":
        options = client.post("/auth/passkey/options", {}, format="json").json()
        return path, {"ceremony": options["ceremony"], "credential": authenticator.get(options["publicKey"])}
    if marker in ("PASSKEY_MFA_OPTIONS", "PASSKEY_MFA"):
        from tests.two_factor_helpers import enrol

        enrol(user)
        mfa_token = client.post("/login", {"email": user.email, "password": PASSWORD}, format="json").json()["mfa_token"]
        if marker == "PASSKEY_MFA_OPTIONS":
            return path, {"mfa_token": mfa_token}
        options = client.post("/auth/mfa/webauthn/options", {"mfa_token": mfa_token}, format="json").json()
        return path, {"mfa_token": mfa_token, "ceremony": options["ceremony"], "credential": authenticator.get(options["publicKey"])}
    return path, None  # WITH_PASSKEY
