"""The account rules' edges, at the service level: names a provider gives, missing emails, races
with a chain delete, and the last-way guard's second look."""
import pytest
from bson import ObjectId
from rest_framework.exceptions import AuthenticationFailed, NotFound, ValidationError

from accounts.providers import services
from accounts.providers.documents import ProviderIdentity
from accounts.providers.registry import provider_get
from accounts.users.documents import User
from common.exceptions import Conflict


def test_the_username_is_the_first_name_the_register_rules_accept(provider):
    found = provider_get("test")
    cases = [
        ({"preferred_username": "ok name", "name": "other"}, "ok name"),
        ({"preferred_username": "x", "name": "Zoë Writer"}, "Zoë Writer"),  # too short, then the name
        ({"preferred_username": "bad/name!", "email": "mail.box@example.org"}, "mail.box"),
        ({"preferred_username": 7, "name": ["x"], "email": "ab@example.org"}, "user"),  # nothing usable
    ]
    for n, (names, expected) in enumerate(cases):
        claims = {"sub": f"s{n}", "email": names.get("email", f"e{n}@example.org"), "email_verified": True, **names}
        user = services.provider_sign_in(provider=found, claims=claims, ip="198.51.100.3").user
        assert user.username == expected


def test_a_first_sign_in_without_an_email_is_a_400(provider):
    with pytest.raises(ValidationError) as raised:
        services.provider_sign_in(provider=provider_get("test"), claims={"sub": "no-mail"}, ip="198.51.100.3")
    assert "email" in str(raised.value.detail)
    assert ProviderIdentity.objects.count() == 0 and User.objects.count() == 0


def test_an_account_made_meanwhile_with_the_email_wins_and_the_identity_goes(provider, make_user, monkeypatch):
    """The email was free when looked up, taken when the account is inserted: 409 email_taken,
    and the identity inserted first is removed again."""
    found = provider_get("test")
    real = services._identity_insert

    def insert_then_someone_registers(**kwargs):
        identity = real(**kwargs)
        make_user("quick", "late@example.org")
        return identity

    monkeypatch.setattr(services, "_identity_insert", insert_then_someone_registers)
    with pytest.raises(Conflict) as raised:
        services.provider_sign_in(provider=found, claims={"sub": "late", "email": "late@example.org", "email_verified": True}, ip="198.51.100.3")
    assert raised.value.extra == {"code": "email_taken"}
    assert ProviderIdentity.objects.count() == 0


def test_an_identity_whose_account_is_not_there_yet_asks_to_try_again(provider):
    # A crash between the identity's insert and the account's, written raw (a save() is guarded).
    ProviderIdentity._get_collection().insert_one(ProviderIdentity(user=ObjectId(), provider="test", issuer=provider_get("test").issuer, subject="pending").to_mongo().to_dict())
    with pytest.raises(Conflict):
        services._user_of_identity(provider=provider_get("test"), claims={"sub": "pending"})


def test_connecting_to_an_account_being_deleted_leaves_no_identity(provider, user):
    User.objects(id=user.id).update_one(set__deleting=True)
    with pytest.raises(NotFound):
        services.identity_connect(user=user, provider=provider_get("test"), claims={"sub": "late"}, ip="198.51.100.3")
    assert ProviderIdentity.objects.count() == 0


def test_joining_an_account_being_deleted_leaves_no_identity(provider, user):
    User.objects(id=user.id).update_one(set__deleting=True, set__email_verified=True)
    claims = {"sub": "joiner", "email": user.email, "email_verified": True}
    with pytest.raises(AuthenticationFailed):
        services.provider_sign_in(provider=provider_get("test"), claims=claims, ip="198.51.100.3")
    assert ProviderIdentity.objects.count() == 0


def test_a_malformed_or_foreign_identity_id_is_a_404(user, other):
    theirs = ProviderIdentity(user=other.id, provider="test", issuer="http://i.example", subject="o").save()
    for identity_id in ("nope", str(ObjectId()), str(theirs.id)):
        with pytest.raises(NotFound):
            services.identity_disconnect(user=user, identity_id=identity_id, actor=user, ip="198.51.100.3")


def test_the_second_look_puts_back_an_identity_that_turned_out_to_be_the_last(provider, monkeypatch):
    """Two disconnects racing for a user's last two identities: each saw the other identity before
    deleting; the look after the delete finds none, puts its identity back and answers 409."""
    found = provider_get("test")
    user = services.provider_sign_in(provider=found, claims={"sub": "a", "email": "two@example.org", "email_verified": True}, ip="198.51.100.3").user
    second = ProviderIdentity(user=user.id, provider="test", issuer=found.issuer, subject="b").save()
    first = ProviderIdentity.objects.get(subject="a")
    looks = iter([True, False])  # before the delete: another way in; after it: none
    monkeypatch.setattr(services, "_has_other_way_in", lambda **kwargs: next(looks))
    with pytest.raises(Conflict):
        services.identity_disconnect(user=user, identity_id=str(first.id), actor=user, ip="198.51.100.3")
    assert set(ProviderIdentity.objects.scalar("subject")) == {"a", "b"} and second.id
