"""Fixtures and helpers of the tests that sign in through a real OpenID Connect provider
(accounts/providers/tests, the round-trip budgets, the e2e run): the provider (tests/oidc_provider: django-oauth-toolkit on
SQLite, its own process on loopback, started once per run), the service configured to use it,
and the two ways a person signs in through it: the service's browser redirect, and a client that
does the redirect itself (headless)."""
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from rest_framework.test import APIClient

from tests.oidc_provider.process import TestProvider, running_provider

CLIENT_ID = "user-service"
CLIENT_SECRET = "test-client-secret-" + "x" * 20
CALLBACK = "http://testserver/auth/providers/test/callback"
# Where a headless client (a mobile or single-page app) gets its codes back.
APP_REDIRECT = "http://127.0.0.1:9/app/callback"
PERSON_PASSWORD = "provider-password-1"


@pytest.fixture(scope="session")
def test_provider() -> TestProvider:
    with running_provider() as provider:
        provider.register_client(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=[CALLBACK, APP_REDIRECT])
        yield provider


@pytest.fixture
def provider(test_provider, settings) -> TestProvider:
    """The service configured with the test provider as `test`; its misbehaviour off."""
    settings.OIDC_PROVIDERS = [
        {"id": "test", "name": "Test provider", "issuer": test_provider.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    ]
    test_provider.misbehave("")
    yield test_provider
    test_provider.misbehave("")


@pytest.fixture
def person(provider):
    """A person with an account at the provider (not here): `person(email=..., email_verified=...)`."""
    made = []

    def make(username: str | None = None, *, email: str | None = None, email_verified: bool = True, name: str = "") -> "Person":
        username = username or f"p{secrets.token_hex(4)}"
        email = email or f"{username}@example.org"
        sub = provider.add_person(username=username, password=PERSON_PASSWORD, email=email, email_verified=email_verified, name=name)
        made.append(sub)
        return Person(username=username, email=email, sub=sub)

    return make


@dataclass
class Person:
    username: str
    email: str
    sub: str


def browser_sign_in(api: APIClient, provider: TestProvider, person: Person, *, next_url: str | None = None):
    """The service's redirect flow, as a browser goes through it: the service's redirect, the
    provider's form, back to the callback. Returns the callback's response."""
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    started = api.get(f"/auth/providers/test/redirect{query}")
    assert started.status_code == 302, started.content
    back = provider.sign_in(started["Location"], username=person.username, password=PERSON_PASSWORD, stop_at=CALLBACK)
    parts = urlsplit(back)
    return api.get(f"{parts.path}?{parts.query}")


def fragment(response) -> dict:
    """The answer a callback put in its redirect's fragment."""
    return {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).fragment).items()}


@dataclass
class Code:
    code: str
    code_verifier: str
    nonce: str
    state: str

    def body(self, **changes) -> dict:
        body = {"code": self.code, "code_verifier": self.code_verifier, "redirect_uri": APP_REDIRECT, "nonce": self.nonce}
        body.update(changes)
        return {k: v for k, v in body.items() if v is not None}


def app_code(provider: TestProvider, person: Person) -> Code:
    """What a headless client does itself: its own PKCE verifier, state and nonce, the redirect to
    the provider, the person's sign-in there, and the code from the redirect back to the app."""
    verifier, state, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": APP_REDIRECT,
            "scope": "openid email profile",
            "state": state,
            "nonce": nonce,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    back = provider.sign_in(f"{provider.issuer}/authorize/?{query}", username=person.username, password=PERSON_PASSWORD, stop_at=APP_REDIRECT)
    params = parse_qs(urlsplit(back).query)
    assert params["state"] == [state]
    return Code(code=params["code"][0], code_verifier=verifier, nonce=nonce, state=state)
