"""Fixtures of the passkey tests: a software authenticator at the configured origin, and a user
with a passkey registered through the services."""
import pytest
from django.conf import settings

from accounts.mfa.passkeys import services
from tests.conftest import PASSWORD
from accounts.mfa.passkeys.tests.authenticator import SoftAuthenticator
from accounts.sessions.services import session_start


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(origin=settings.WEBAUTHN_ORIGINS[0])


def session_of(user) -> str:
    """A live session of `user` (its id), as a signed-in request has."""
    refresh = session_start(user=user)
    return refresh["sid"]


def passkey_add(user, authenticator: SoftAuthenticator, name: str = "laptop"):
    """Register a passkey of `authenticator` for `user` through the services."""
    sid = session_of(user)
    options = services.passkey_registration_options(user=user, session_id=sid, current_password=PASSWORD)
    credential = authenticator.create(options["publicKey"])
    return services.passkey_register(user=user, session_id=sid, ceremony=options["ceremony"], credential=credential, name=name)


@pytest.fixture
def user_with_passkey(user, authenticator):
    passkey_add(user, authenticator)
    user.reload()
    return user
