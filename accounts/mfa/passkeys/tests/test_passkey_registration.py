"""Adding, renaming and removing passkeys at the service level, and what the chain delete, the
export and check_integrity make of them."""
import pytest
from rest_framework.exceptions import ValidationError

from accounts.users.documents import User
from accounts.mfa.passkeys import services, sign_in
from accounts.mfa.passkeys.documents import Passkey, WebAuthnChallenge
from tests.conftest import PASSWORD
from accounts.mfa.passkeys.tests.conftest import passkey_add, session_of


def test_a_credential_made_for_another_rp_id_is_refused(user, authenticator, settings):
    sid = session_of(user)
    options = services.passkey_registration_options(user=user, session_id=sid, current_password=PASSWORD)
    options["publicKey"]["rp"]["id"] = "evil.example.net"  # the authenticator signs for another site
    credential = authenticator.create(options["publicKey"])
    with pytest.raises(ValidationError) as raised:
        services.passkey_register(user=user, session_id=sid, ceremony=options["ceremony"], credential=credential)
    assert "RP ID" in str(raised.value.detail["credential"][0]) or "rp" in str(raised.value.detail["credential"][0]).lower()
    assert Passkey.objects.count() == 0


def test_a_registration_without_user_verification_is_refused(user, authenticator):
    sid = session_of(user)
    options = services.passkey_registration_options(user=user, session_id=sid, current_password=PASSWORD)
    credential = authenticator.create(options["publicKey"], user_verified=False)
    with pytest.raises(ValidationError):
        services.passkey_register(user=user, session_id=sid, ceremony=options["ceremony"], credential=credential)


def test_a_registration_ceremony_is_bound_to_its_user_and_session(user, other, authenticator):
    sid = session_of(user)
    options = services.passkey_registration_options(user=user, session_id=sid, current_password=PASSWORD)
    credential = authenticator.create(options["publicKey"])
    with pytest.raises(ValidationError) as raised:  # another session of the same user
        services.passkey_register(user=user, session_id=session_of(user), ceremony=options["ceremony"], credential=credential)
    assert "ceremony" in raised.value.detail
    options = services.passkey_registration_options(user=user, session_id=sid, current_password=PASSWORD)
    credential = authenticator.create(options["publicKey"])
    with pytest.raises(ValidationError):  # another user
        services.passkey_register(user=other, session_id=sid, ceremony=options["ceremony"], credential=credential)
    assert Passkey.objects.count() == 0


def test_a_login_challenge_cannot_finish_a_registration(user, authenticator):
    options = sign_in.passkey_login_options()
    credential = authenticator.create({**options["publicKey"], "rp": {"id": "localhost"}, "user": {"id": "AAAA"}})
    with pytest.raises(ValidationError) as raised:
        services.passkey_register(user=user, session_id=session_of(user), ceremony=options["ceremony"], credential=credential)
    assert "ceremony" in raised.value.detail


def test_the_same_passkey_cannot_be_registered_twice(user, authenticator):
    from common.exceptions import Conflict

    sid = session_of(user)
    options = services.passkey_registration_options(user=user, session_id=sid, current_password=PASSWORD)
    credential = authenticator.create(options["publicKey"])
    services.passkey_register(user=user, session_id=sid, ceremony=options["ceremony"], credential=credential)
    options = services.passkey_registration_options(user=user, session_id=sid, current_password=PASSWORD)
    assert [c["id"] for c in options["publicKey"]["excludeCredentials"]] == [credential["id"]]
    with pytest.raises(ValidationError):  # the old answer does not sign the new challenge
        services.passkey_register(user=user, session_id=sid, ceremony=options["ceremony"], credential=credential)


def test_a_credential_id_belongs_to_one_account(user, other, authenticator):
    from common.exceptions import Conflict

    taken = passkey_add(user, authenticator)
    sid = session_of(other)
    options = services.passkey_registration_options(user=other, session_id=sid, current_password=PASSWORD)
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
    from accounts.user_data.services import orphans_find, user_delete

    services.passkey_registration_options(user=user_with_passkey, session_id=session_of(user_with_passkey), current_password=PASSWORD)
    sign_in.passkey_login_options(email="alice@example.com")
    counts = user_delete(user=user_with_passkey, actor=None, reason="test")
    assert counts["passkeys"] == 1 and counts["webauthn_challenges"] == 2
    assert Passkey.objects.count() == 0 and WebAuthnChallenge.objects.count() == 0
    assert not any(orphans_find().values())


def test_the_export_holds_names_and_dates_only(user_with_passkey):
    from accounts.user_data.services import user_export

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


def test_the_check_integrity_command_finds_and_mends_a_wrong_count(user, authenticator):
    from django.core.management import call_command

    passkey_add(user, authenticator)
    User._get_collection().update_one({"_id": user.id}, {"$set": {"passkeys_count": 3}})
    with pytest.raises(SystemExit):
        call_command("check_integrity")
    call_command("check_integrity", "--fix")
    assert User.objects.get(id=user.id).passkeys_count == 1
    call_command("check_integrity")  # clean now: no exit


# --- check_integrity's grace: a count between its two writes is not a crash ----------------------
def _aged(user, minutes: int = 10) -> None:
    """As if the user's passkeys were added, and their count last moved, `minutes` ago."""
    from datetime import timedelta

    from bson import ObjectId

    from accounts.users.documents import now

    then = now() - timedelta(minutes=minutes)
    for passkey in Passkey._get_collection().find({"user": user.id}):
        Passkey._get_collection().delete_one({"_id": passkey["_id"]})
        Passkey._get_collection().insert_one({**passkey, "_id": ObjectId.from_datetime(then)})
    User._get_collection().update_one({"_id": user.id}, {"$set": {"passkeys_changed_at": then}})


def _a_minute_ago():
    from datetime import timedelta

    from accounts.users.documents import now

    return now() - timedelta(seconds=60)


def test_an_add_between_its_insert_and_its_count_is_left_to_finish(user, authenticator):
    passkey_add(user, authenticator)
    User._get_collection().update_one({"_id": user.id}, {"$inc": {"passkeys_count": -1}})  # the +1 not yet run
    grace = _a_minute_ago()
    assert services.passkeys_integrity_find(begun_before=grace) == {"users.passkeys_count": []}
    assert services.passkeys_integrity_fix({"users.passkeys_count": [user.id]}, begun_before=grace) == {}
    User._get_collection().update_one({"_id": user.id}, {"$inc": {"passkeys_count": 1}})  # the add's +1 lands
    assert User.objects.get(id=user.id).passkeys_count == 1  # counted once, not twice
    assert services.passkeys_integrity_find() == {"users.passkeys_count": []}


def test_a_removal_between_its_count_and_its_delete_is_left_to_finish(user, authenticator):
    passkey_add(user, authenticator)
    _aged(user)
    User._get_collection().update_one({"_id": user.id}, services._count_moved(-1))  # the delete not yet run
    grace = _a_minute_ago()
    assert services.passkeys_integrity_find(begun_before=grace) == {"users.passkeys_count": []}
    assert services.passkeys_integrity_fix({"users.passkeys_count": [user.id]}, begun_before=grace) == {}
    Passkey._get_collection().delete_many({"user": user.id})  # the removal's delete lands
    assert User.objects.get(id=user.id).passkeys_count == 0
    assert services.passkeys_integrity_find() == {"users.passkeys_count": []}


def test_a_count_a_crash_left_long_ago_is_mended_within_the_grace(user, authenticator):
    passkey_add(user, authenticator)
    User._get_collection().update_one({"_id": user.id}, {"$set": {"passkeys_count": 0}})  # the +1 never ran
    _aged(user)
    grace = _a_minute_ago()
    found = services.passkeys_integrity_find(begun_before=grace)
    assert found == {"users.passkeys_count": [user.id]}
    assert services.passkeys_integrity_fix(found, begun_before=grace) == {"users.passkeys_count": 1}
    assert User.objects.get(id=user.id).passkeys_count == 1


def test_a_count_that_moves_between_the_find_and_the_fix_is_not_overwritten(user, authenticator, monkeypatch):
    passkey_add(user, authenticator)
    User._get_collection().update_one({"_id": user.id}, {"$set": {"passkeys_count": 0}})
    found = services.passkeys_integrity_find()
    assert found == {"users.passkeys_count": [user.id]}
    real_count = Passkey._get_collection().count_documents

    def count_then_a_removal_moves_the_count(query, *args, **kwargs):
        n = real_count(query, *args, **kwargs)
        User._get_collection().update_one({"_id": user.id}, services._count_moved(+1))  # another writer, meanwhile
        return n

    monkeypatch.setattr(Passkey._get_collection(), "count_documents", count_then_a_removal_moves_the_count)
    assert services.passkeys_integrity_fix(found) == {}  # the conditional update lost: nothing clobbered
    assert User.objects.get(id=user.id).passkeys_count == 1
