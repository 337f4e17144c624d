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


def _login(authenticator, email=None, **kwargs):
    options = services.passkey_login_options(email=email)
    credential = authenticator.get(options["publicKey"], **kwargs)
    return options, credential


def test_a_replayed_assertion_is_refused(user_with_passkey, authenticator):
    options, credential = _login(authenticator)
    services.passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")
    with pytest.raises(ValidationError) as raised:  # the same ceremony again: spent
        services.passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")
    assert "ceremony" in raised.value.detail
    fresh = services.passkey_login_options()
    with pytest.raises(ValidationError) as raised:  # the old answer to a new ceremony: another challenge
        services.passkey_login(ceremony=fresh["ceremony"], credential=credential, ip="10.0.0.1")
    assert "challenge" in str(raised.value.detail["credential"][0]).lower()


def test_an_answer_from_another_origin_is_refused(user_with_passkey, authenticator):
    options, credential = _login(authenticator, origin="https://evil.example.net")
    with pytest.raises(ValidationError) as raised:
        services.passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")
    assert "origin" in str(raised.value.detail["credential"][0])
    assert AuditEvent.objects(action="login_failed", target=user_with_passkey.id).count() == 1


def test_a_credential_made_for_another_rp_id_is_refused(user, authenticator, settings):
    sid = session_of(user)
    options = services.passkey_registration_options(user=user, session_id=sid)
    options["publicKey"]["rp"]["id"] = "evil.example.net"  # the authenticator signs for another site
    credential = authenticator.create(options["publicKey"])
    with pytest.raises(ValidationError) as raised:
        services.passkey_register(user=user, session_id=sid, ceremony=options["ceremony"], credential=credential)
    assert "RP ID" in str(raised.value.detail["credential"][0]) or "rp" in str(raised.value.detail["credential"][0]).lower()
    assert Passkey.objects.count() == 0


def test_a_cloned_authenticator_is_refused_and_audited(user_with_passkey, authenticator):
    copy = authenticator.clone()
    options, credential = _login(authenticator)
    services.passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")  # counter 1
    options, credential = _login(copy)  # the copy's counter is 1 again: not above the stored 1
    with pytest.raises(ValidationError) as raised:
        services.passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")
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
        assert services.passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1").user.id == user.id


def test_user_verification_is_required_for_a_passwordless_login(user_with_passkey, authenticator):
    options, credential = _login(authenticator, user_verified=False)
    with pytest.raises(ValidationError) as raised:
        services.passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")
    assert "verif" in str(raised.value.detail["credential"][0]).lower()


def test_a_registration_without_user_verification_is_refused(user, authenticator):
    sid = session_of(user)
    options = services.passkey_registration_options(user=user, session_id=sid)
    credential = authenticator.create(options["publicKey"], user_verified=False)
    with pytest.raises(ValidationError):
        services.passkey_register(user=user, session_id=sid, ceremony=options["ceremony"], credential=credential)


def test_a_registration_ceremony_is_bound_to_its_user_and_session(user, other, authenticator):
    sid = session_of(user)
    options = services.passkey_registration_options(user=user, session_id=sid)
    credential = authenticator.create(options["publicKey"])
    with pytest.raises(ValidationError) as raised:  # another session of the same user
        services.passkey_register(user=user, session_id=session_of(user), ceremony=options["ceremony"], credential=credential)
    assert "ceremony" in raised.value.detail
    options = services.passkey_registration_options(user=user, session_id=sid)
    credential = authenticator.create(options["publicKey"])
    with pytest.raises(ValidationError):  # another user
        services.passkey_register(user=other, session_id=sid, ceremony=options["ceremony"], credential=credential)
    assert Passkey.objects.count() == 0


def test_a_login_challenge_cannot_finish_a_registration(user, authenticator):
    options = services.passkey_login_options()
    credential = authenticator.create({**options["publicKey"], "rp": {"id": "localhost"}, "user": {"id": "AAAA"}})
    with pytest.raises(ValidationError) as raised:
        services.passkey_register(user=user, session_id=session_of(user), ceremony=options["ceremony"], credential=credential)
    assert "ceremony" in raised.value.detail


def test_an_expired_challenge_is_refused(user_with_passkey, authenticator):
    from datetime import timedelta

    from accounts.documents import now

    options, credential = _login(authenticator)
    WebAuthnChallenge._get_collection().update_many({}, {"$set": {"expires_at": now() - timedelta(seconds=1)}})
    with pytest.raises(ValidationError) as raised:
        services.passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")
    assert "ceremony" in raised.value.detail


def test_with_an_email_the_options_list_that_accounts_passkeys(user_with_passkey, authenticator, other):
    options = services.passkey_login_options(email="ALICE@example.com")
    ids = [c["id"] for c in options["publicKey"]["allowCredentials"]]
    assert ids == [Passkey.objects.get(user=user_with_passkey.id).credential_id]
    credential = authenticator.get(options["publicKey"])
    assert services.passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1").user.id == user_with_passkey.id


def test_an_email_of_no_account_gets_options_that_look_the_same(user_with_passkey):
    real = services.passkey_login_options(email="alice@example.com")["publicKey"]
    unknown = services.passkey_login_options(email="nobody@example.com")["publicKey"]
    again = services.passkey_login_options(email="nobody@example.com")["publicKey"]
    without = services.passkey_login_options(email="bob@example.com")["publicKey"]  # no such user either
    assert set(real) == set(unknown) and unknown["allowCredentials"] and unknown["allowCredentials"] == again["allowCredentials"]
    assert unknown["allowCredentials"] != without["allowCredentials"]
    assert all(set(c) == {"id", "type"} for c in real["allowCredentials"] + unknown["allowCredentials"])


def test_an_assertion_for_another_accounts_ceremony_is_refused(user_with_passkey, authenticator, other):
    from accounts.mfa.passkeys.tests.authenticator import SoftAuthenticator

    bobs = SoftAuthenticator(origin=authenticator.origin)
    passkey_add(other, bobs)
    options = services.passkey_login_options(email="alice@example.com")
    credential = bobs.get({**options["publicKey"], "allowCredentials": []})
    with pytest.raises(ValidationError):
        services.passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")


def test_failed_assertions_count_towards_the_lock_out(user_with_passkey, authenticator, settings):
    from rest_framework.exceptions import Throttled

    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        options, credential = _login(authenticator, origin="https://evil.example.net")
        with pytest.raises(ValidationError):
            services.passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.9")
    options, credential = _login(authenticator)
    with pytest.raises(Throttled):
        services.passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.9")
    # From another address the owner still gets in.
    options, credential = _login(authenticator)
    assert services.passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.10").refresh


def test_a_trashed_account_cannot_sign_in_with_its_passkey(user_with_passkey, authenticator):
    User._get_collection().update_one({"_id": user_with_passkey.id}, {"$set": {"in_trash": True}})
    options, credential = _login(authenticator)
    with pytest.raises(ValidationError):
        services.passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")


def test_mandatory_email_verification_applies(user_with_passkey, authenticator, settings):
    from accounts.services.email_verification import EmailNotVerified

    settings.EMAIL_VERIFICATION = "mandatory"
    User._get_collection().update_one({"_id": user_with_passkey.id}, {"$set": {"email_verified": False}})
    options, credential = _login(authenticator)
    with pytest.raises(EmailNotVerified):
        services.passkey_login(ceremony=options["ceremony"], credential=credential, ip="10.0.0.1")


def test_the_same_passkey_cannot_be_registered_twice(user, authenticator):
    from common.exceptions import Conflict

    sid = session_of(user)
    options = services.passkey_registration_options(user=user, session_id=sid)
    credential = authenticator.create(options["publicKey"])
    services.passkey_register(user=user, session_id=sid, ceremony=options["ceremony"], credential=credential)
    options = services.passkey_registration_options(user=user, session_id=sid)
    assert [c["id"] for c in options["publicKey"]["excludeCredentials"]] == [credential["id"]]
    with pytest.raises(ValidationError):  # the old answer does not sign the new challenge
        services.passkey_register(user=user, session_id=sid, ceremony=options["ceremony"], credential=credential)



def test_a_credential_id_belongs_to_one_account(user, other, authenticator):
    from common.exceptions import Conflict

    taken = passkey_add(user, authenticator)
    sid = session_of(other)
    options = services.passkey_registration_options(user=other, session_id=sid)
    from fido2.utils import websafe_decode

    credential = authenticator.create(options["publicKey"], credential_id=websafe_decode(taken.credential_id))
    with pytest.raises(Conflict):  # the unique index on credential_id decides
        services.passkey_register(user=other, session_id=sid, ceremony=options["ceremony"], credential=credential)
    assert User.objects.get(id=other.id).passkeys_count == 0


def test_rename_and_remove(user, authenticator, other):
    from rest_framework.exceptions import NotFound

    first = passkey_add(user, authenticator, name="one")
    second = passkey_add(user, authenticator, name="two")
    assert services.passkey_rename(user=user, passkey_id=str(first.id), name="work laptop").name == "work laptop"
    with pytest.raises(NotFound):
        services.passkey_rename(user=other, passkey_id=str(first.id), name="mine")
    user.reload()
    services.passkey_remove(user=user, passkey_id=str(second.id), actor=user)
    services.passkey_remove(user=user, passkey_id=str(first.id), actor=user)  # the password remains a way in
    assert Passkey.objects.count() == 0 and User.objects.get(id=user.id).passkeys_count == 0
    with pytest.raises(NotFound):
        services.passkey_remove(user=user, passkey_id=str(first.id), actor=user)


def test_a_user_without_a_usable_password_keeps_a_passkey(user, authenticator):
    from django.contrib.auth.hashers import make_password

    from common.exceptions import Conflict

    first = passkey_add(user, authenticator, name="one")
    second = passkey_add(user, authenticator, name="two")
    User._get_collection().update_one({"_id": user.id}, {"$set": {"password": make_password(None)}})
    user.reload()
    services.passkey_remove(user=user, passkey_id=str(first.id), actor=user)
    with pytest.raises(Conflict):
        services.passkey_remove(user=user, passkey_id=str(second.id), actor=user)
    assert Passkey.objects.count() == 1 and User.objects.get(id=user.id).passkeys_count == 1


def test_a_chain_delete_leaves_no_credential_and_no_challenge(user_with_passkey, authenticator):
    from accounts.services.user_data import orphans_find, user_delete

    services.passkey_registration_options(user=user_with_passkey, session_id=session_of(user_with_passkey))
    services.passkey_login_options(email="alice@example.com")
    counts = user_delete(user=user_with_passkey, actor=None, reason="test")
    assert counts["passkeys"] == 1 and counts["webauthn_challenges"] == 2
    assert Passkey.objects.count() == 0 and WebAuthnChallenge.objects.count() == 0
    assert not any(orphans_find().values())


def test_the_export_holds_names_and_dates_only(user_with_passkey):
    from accounts.services.user_data import user_export

    exported = user_export(user=user_with_passkey)["collections"]["passkeys"]
    assert len(exported) == 1
    assert set(exported[0]) == {"_id", "user", "name", "created_at", "last_used_at"}


def test_check_integrity_recounts_after_a_crash(user, authenticator):
    passkey_add(user, authenticator)
    User._get_collection().update_one({"_id": user.id}, {"$set": {"passkeys_count": 0}})  # as if the $inc never ran
    found = services.passkeys_integrity_find()
    assert found == {"users.passkeys_count": [user.id]}
    assert services.passkeys_integrity_fix(found) == {"users.passkeys_count": 1}
    assert User.objects.get(id=user.id).passkeys_count == 1 and services.passkeys_integrity_find() == {"users.passkeys_count": []}
