"""Signing in with a passkey alone, at the service level, with the software authenticator."""
import pytest
from rest_framework.exceptions import ValidationError

from accounts.users.documents import AuditEvent, User
from accounts.users.login import passkey_login
from accounts.mfa.passkeys import sign_in
from accounts.mfa.passkeys.documents import Passkey, WebAuthnChallenge
from accounts.mfa.passkeys.tests.conftest import passkey_add


def test_register_then_sign_in_with_the_passkey_alone(user, authenticator):
    passkey = passkey_add(user, authenticator, name="laptop")
    assert passkey.name == "laptop" and User.objects.get(id=user.id).passkeys_count == 1
    options = sign_in.passkey_login_options()
    assert options["publicKey"]["allowCredentials"] == [] and options["publicKey"]["userVerification"] == "required"
    outcome = passkey_login(ceremony=options["ceremony"], credential=authenticator.get(options["publicKey"]), ip="10.0.0.1")
    assert outcome.user.id == user.id and outcome.refresh is not None and outcome.mfa_token is None
    stored = Passkey.objects.get(id=passkey.id)
    assert stored.sign_count == 1 and stored.last_used_at is not None
    assert AuditEvent.objects(action="login", detail__factor="passkey").count() == 1
    assert WebAuthnChallenge.objects.count() == 0


def _login(authenticator, email=None, **kwargs):
    options = sign_in.passkey_login_options(email=email)
    credential = authenticator.get(options["publicKey"], **kwargs)
    return options, credential


def test_a_replayed_assertion_is_refused(user_with_passkey, authenticator):
    options, credential = _login(authenticator)
    passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")
    with pytest.raises(ValidationError) as raised:  # the same ceremony again: spent
        passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")
    assert "ceremony" in raised.value.detail
    fresh = sign_in.passkey_login_options()
    with pytest.raises(ValidationError) as raised:  # the old answer to a new ceremony: another challenge
        passkey_login(ceremony=fresh["ceremony"], credential=credential, ip="10.0.0.1")
    assert "challenge" in str(raised.value.detail["credential"][0]).lower()


def test_an_answer_from_another_origin_is_refused(user_with_passkey, authenticator):
    options, credential = _login(authenticator, origin="https://evil.example.net")
    with pytest.raises(ValidationError) as raised:
        passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")
    assert "origin" in str(raised.value.detail["credential"][0])
    assert AuditEvent.objects(action="login_failed", target=user_with_passkey.id).count() == 1


def test_a_cloned_authenticator_is_refused_and_audited(user_with_passkey, authenticator):
    copy = authenticator.clone()
    options, credential = _login(authenticator)
    passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")  # counter 1
    options, credential = _login(copy)  # the copy's counter is 1 again: not above the stored 1
    with pytest.raises(ValidationError) as raised:
        passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")
    assert "copy of the authenticator" in str(raised.value.detail["credential"][0])
    assert AuditEvent.objects(action="passkey_clone_suspected", target=user_with_passkey.id).count() == 1
    assert Passkey.objects.get(user=user_with_passkey.id).sign_count == 1


def test_an_authenticator_without_a_counter_is_accepted_while_it_never_had_one(user):
    from accounts.mfa.passkeys.tests.authenticator import SoftAuthenticator
    from django.conf import settings

    no_counter = SoftAuthenticator(origin=settings.WEBAUTHN_ORIGINS[0], counter=False)
    passkey_add(user, no_counter)
    for _ in range(2):
        options, credential = _login(no_counter)
        assert passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1").user.id == user.id


def test_user_verification_is_required_for_a_passwordless_login(user_with_passkey, authenticator):
    options, credential = _login(authenticator, user_verified=False)
    with pytest.raises(ValidationError) as raised:
        passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")
    assert "verif" in str(raised.value.detail["credential"][0]).lower()


def test_an_expired_challenge_is_refused(user_with_passkey, authenticator):
    from datetime import timedelta

    from accounts.users.documents import now

    options, credential = _login(authenticator)
    WebAuthnChallenge._get_collection().update_many({}, {"$set": {"expires_at": now() - timedelta(seconds=1)}})
    with pytest.raises(ValidationError) as raised:
        passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")
    assert "ceremony" in raised.value.detail


def test_with_an_email_the_options_list_that_accounts_passkeys(user_with_passkey, authenticator, other):
    options = sign_in.passkey_login_options(email="ALICE@example.com")
    ids = [c["id"] for c in options["publicKey"]["allowCredentials"]]
    assert ids == [Passkey.objects.get(user=user_with_passkey.id).credential_id]
    credential = authenticator.get(options["publicKey"])
    assert passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1").user.id == user_with_passkey.id


def test_an_email_of_no_account_gets_options_that_look_the_same(user_with_passkey):
    real = sign_in.passkey_login_options(email="alice@example.com")["publicKey"]
    unknown = sign_in.passkey_login_options(email="nobody@example.com")["publicKey"]
    again = sign_in.passkey_login_options(email="nobody@example.com")["publicKey"]
    without = sign_in.passkey_login_options(email="bob@example.com")["publicKey"]  # no such user either
    assert set(real) == set(unknown) and unknown["allowCredentials"] and unknown["allowCredentials"] == again["allowCredentials"]
    assert unknown["allowCredentials"] != without["allowCredentials"]
    assert all(set(c) == {"id", "type"} for c in real["allowCredentials"] + unknown["allowCredentials"])


def test_an_assertion_for_another_accounts_ceremony_is_refused(user_with_passkey, authenticator, other):
    from accounts.mfa.passkeys.tests.authenticator import SoftAuthenticator

    bobs = SoftAuthenticator(origin=authenticator.origin)
    passkey_add(other, bobs)
    options = sign_in.passkey_login_options(email="alice@example.com")
    credential = bobs.get({**options["publicKey"], "allowCredentials": []})
    with pytest.raises(ValidationError):
        passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")


def test_failed_assertions_count_towards_the_lock_out(user_with_passkey, authenticator, settings):
    from rest_framework.exceptions import Throttled

    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        options, credential = _login(authenticator, origin="https://evil.example.net")
        with pytest.raises(ValidationError):
            passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.9")
    options, credential = _login(authenticator)
    with pytest.raises(Throttled):
        passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.9")
    # From another address the owner still gets in.
    options, credential = _login(authenticator)
    assert passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.10").refresh


def test_a_trashed_account_cannot_sign_in_with_its_passkey(user_with_passkey, authenticator):
    User._get_collection().update_one({"_id": user_with_passkey.id}, {"$set": {"in_trash": True}})
    options, credential = _login(authenticator)
    with pytest.raises(ValidationError):
        passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")


def test_mandatory_email_verification_applies(user_with_passkey, authenticator, settings):
    from accounts.emails.email_verification import EmailNotVerified

    settings.EMAIL_VERIFICATION = "mandatory"
    User._get_collection().update_one({"_id": user_with_passkey.id}, {"$set": {"email_verified": False}})
    options, credential = _login(authenticator)
    with pytest.raises(EmailNotVerified):
        passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")
