"""The passkey ceremonies at the service level, with the software authenticator."""
import pytest
from rest_framework.exceptions import ValidationError

from accounts.documents import AuditEvent, User
from accounts.mfa.passkeys import services
from accounts.mfa.passkeys.documents import Passkey, WebAuthnChallenge
from accounts.mfa.passkeys.tests.conftest import passkey_add, session_of


def test_register_then_sign_in_with_the_passkey_alone(user, authenticator):
    passkey = passkey_add(user, authenticator, name="laptop")
    assert passkey.name == "laptop" and User.objects.get(id=user.id).passkeys_count == 1
    options = services.passkey_login_options()
    assert options["publicKey"]["allowCredentials"] == [] and options["publicKey"]["userVerification"] == "required"
    outcome = services.passkey_login(ceremony=options["ceremony"], credential=authenticator.get(options["publicKey"]), ip="10.0.0.1")
    assert outcome.user.id == user.id and outcome.refresh is not None and outcome.mfa_token is None
    stored = Passkey.objects.get(id=passkey.id)
    assert stored.sign_count == 1 and stored.last_used_at is not None
    assert AuditEvent.objects(action="login", detail__factor="passkey").count() == 1
    assert WebAuthnChallenge.objects.count() == 0
