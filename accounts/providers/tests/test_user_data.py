"""Identities are covered by the chain delete, the export and check_integrity through their
declaration (ReferenceField(User, CASCADE)), and first sign-ins race safely on the unique index."""
import threading

from bson import ObjectId
from django.core.management import call_command

from accounts.users.documents import User
from accounts.providers.documents import ProviderIdentity
from accounts.providers.registry import provider_get
from accounts.providers.services import provider_sign_in
from accounts.user_data import services as user_data


def link(user, sub="sub-1"):
    return ProviderIdentity(user=user.id, provider="test", issuer="http://issuer.example", subject=sub, email=user.email).save()


def test_chain_delete_and_export_cover_identities(user, client_for):
    link(user)
    exported = client_for(user).get(f"/users/{user.id}/export").json()
    assert any("provider_identities" in key for key in exported) or "provider_identities" in str(exported)
    counts = user_data.user_delete(user=user, actor=None, reason="test")
    assert counts.get("provider_identities") == 1
    assert ProviderIdentity.objects.count() == 0


def test_check_integrity_finds_and_removes_an_orphan_identity(capsys):
    # A crash between the identity's insert and the account's, written raw (a save() is guarded).
    ProviderIdentity._get_collection().insert_one(ProviderIdentity(user=ObjectId(), provider="test", issuer="http://issuer.example", subject="lost").to_mongo().to_dict())
    try:
        call_command("check_integrity")
    except SystemExit as exc:
        assert exc.code != 0
    assert "provider_identities" in capsys.readouterr().out
    try:
        call_command("check_integrity", "--fix")
    except SystemExit:
        pass
    assert ProviderIdentity.objects.count() == 0


def test_one_identity_links_to_one_account_by_the_unique_index(user, other):
    link(user, "same")
    from mongoengine import NotUniqueError

    try:
        link(other, "same")
    except NotUniqueError:
        pass
    else:
        raise AssertionError("the unique index let a second account hold the identity")


def test_concurrent_first_sign_ins_make_one_account(provider):
    found = provider_get("test")
    claims = {"sub": "racer", "email": "racer@example.org", "email_verified": True, "preferred_username": "racer"}
    results, barrier = [], threading.Barrier(4)

    def sign_in():
        barrier.wait()
        try:
            results.append(str(provider_sign_in(provider=found, claims=claims, ip="198.51.100.2").user.id))
        except Exception as exc:  # noqa: BLE001 - a loser may be told to try again (409)
            results.append(getattr(exc, "status_code", repr(exc)))

    threads = [threading.Thread(target=sign_in) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert User.objects.count() == 1 and ProviderIdentity.objects.count() == 1
    winner = str(User.objects.get().id)
    assert all(r == winner or r == 409 for r in results), results
    assert winner in results
