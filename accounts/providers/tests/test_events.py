"""identity.linked / identity.unlinked (and a first sign-in's user.created) through the outbox to a
real webhook receiver on loopback, verified with the `standardwebhooks` library: the payload's
shape, one event per link and unlink, none for a link or unlink that did not happen."""
from datetime import timedelta

import pytest
from bson import ObjectId
from rest_framework.exceptions import AuthenticationFailed, NotFound

from accounts.events.documents import CANCELLED, OutboxJob
from accounts.events.outbox import outbox_drain
from accounts.events.tests.receivers import Receiver
from accounts.providers import services
from accounts.providers.documents import ProviderIdentity
from accounts.providers.registry import provider_get
from accounts.users.documents import AuditEvent, User, now
from common.exceptions import Conflict
from tests.conftest import bearer
from tests.oidc_provider.fixtures import app_code

IDENTITY_DATA = {"user_id", "identity_id", "provider", "issuer", "subject"}
IP = "198.51.100.3"


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the receiver listens on 127.0.0.1
    settings.OUTBOX_RETRY_DELAYS = [0, 0, 0]


@pytest.fixture
def receiver(admin, client_for):
    """A receiver subscribed to every event, registered after what the fixtures set off."""
    with Receiver() as listening:
        outbox_drain()  # the fixtures' users' user.created go to nobody
        r = client_for(admin).post("/webhooks", {"url": listening.url, "events": ["*"]}, format="json")
        assert r.status_code == 201, r.content
        listening.secret = r.json()["secret"]
        yield listening


def events(receiver: Receiver, *types: str) -> list[dict]:
    outbox_drain()
    assert receiver.forged == 0
    return [p for p in receiver.received if not types or p["type"] in types]


def identity_events(receiver: Receiver) -> list[dict]:
    return events(receiver, "identity.linked", "identity.unlinked")


def test_a_first_sign_in_announces_the_account_and_its_identity_once(api, provider, person, receiver):
    someone = person("nina", email="Nina@Example.org")
    answer = api.post("/auth/providers/test/token", app_code(provider, someone).body(), format="json").json()
    identity = ProviderIdentity.objects.get(user=answer["user_id"])
    created, linked = events(receiver)
    assert created["type"] == "user.created" and created["data"]["user_id"] == answer["user_id"]
    assert created["data"]["username"] == "nina" and created["data"]["email"] == "Nina@Example.org" and created["data"]["email_verified"] is True
    assert set(linked) == {"type", "timestamp", "data"} and linked["type"] == "identity.linked"
    assert linked["data"] == {"user_id": answer["user_id"], "identity_id": str(identity.id), "provider": "test", "issuer": provider.issuer, "subject": someone.sub}
    assert "Nina@Example.org" not in str(linked)  # the provider's email is not in the identity's events
    # Signing in again links nothing new: no event.
    assert api.post("/auth/providers/test/token", app_code(provider, someone).body(), format="json").status_code == 200
    assert len(events(receiver)) == 2


def test_a_taken_username_is_announced_as_the_one_the_account_got(api, provider, person, make_user, receiver):
    make_user("carol", "carol-here@example.com")
    events(receiver)
    receiver.received.clear()
    answer = api.post("/auth/providers/test/token", app_code(provider, person("carol")).body(), format="json").json()
    [created] = events(receiver, "user.created")
    assert created["data"]["username"] == User.objects.get(id=answer["user_id"]).username != "carol"


def test_connecting_and_disconnecting_each_send_one_event(api, provider, person, user, receiver):
    someone = person(email="alice-elsewhere@example.org")
    api.credentials(HTTP_AUTHORIZATION=bearer(user))
    connected = api.post(f"/users/{user.id}/identities/test", app_code(provider, someone).body(), format="json")
    assert connected.status_code == 201
    again = api.post(f"/users/{user.id}/identities/test", app_code(provider, someone).body(), format="json")
    assert again.status_code == 200  # connected already: nothing happened, nothing announced
    [linked] = identity_events(receiver)
    assert linked["type"] == "identity.linked" and set(linked["data"]) == IDENTITY_DATA
    assert linked["data"]["identity_id"] == connected.json()["id"] and linked["data"]["user_id"] == str(user.id)
    assert api.delete(f"/users/{user.id}/identities/{connected.json()['id']}").status_code == 204
    assert api.delete(f"/users/{user.id}/identities/{connected.json()['id']}").status_code == 404
    linked, unlinked = identity_events(receiver)
    assert unlinked["type"] == "identity.unlinked" and unlinked["data"] == linked["data"]
    assert len(set(receiver.ids)) == len(receiver.ids)  # one webhook-id per event


def test_a_failed_link_or_unlink_sends_nothing(api, provider, person, user, other, receiver):
    someone = person()
    api.credentials(HTTP_AUTHORIZATION=bearer(user))
    assert api.post(f"/users/{user.id}/identities/test", app_code(provider, someone).body(), format="json").status_code == 201
    api.credentials(HTTP_AUTHORIZATION=bearer(other))
    assert api.post(f"/users/{other.id}/identities/test", app_code(provider, someone).body(), format="json").status_code == 409
    # A provider-made account's only identity: the last way in stays (409), unannounced.
    lone = api.post("/auth/providers/test/token", app_code(provider, person()).body(), format="json").json()
    lone_identity = ProviderIdentity.objects.get(user=lone["user_id"])
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {lone['access']}")
    assert api.delete(f"/users/{lone['user_id']}/identities/{lone_identity.id}").status_code == 409
    # An email held here by an unverified account: 409 email_taken, nothing linked.
    taken = person(email=other.email)
    assert api.post("/auth/providers/test/token", app_code(provider, taken).body(), format="json").status_code == 409
    assert [(p["type"], p["data"]["user_id"]) for p in identity_events(receiver)] == [("identity.linked", str(user.id)), ("identity.linked", lone["user_id"])]


def test_joining_an_account_by_its_verified_email_announces_the_link_only(provider, user, receiver):
    User.objects(id=user.id).update_one(set__email_verified=True)
    claims = {"sub": "joiner", "email": user.email, "email_verified": True}
    assert services.provider_sign_in(provider=provider_get("test"), claims=claims, ip=IP).user.id == user.id
    [linked] = events(receiver)
    assert linked["type"] == "identity.linked" and linked["data"]["subject"] == "joiner" and linked["data"]["user_id"] == str(user.id)


def test_no_event_for_a_user_being_deleted(provider, user, receiver):
    """The event is one of the owner guard's writes: undone with the identity (accounts/users/guard.py)."""
    User.objects(id=user.id).update_one(set__deleting=True, set__email_verified=True)
    with pytest.raises(NotFound):
        services.identity_connect(user=user, provider=provider_get("test"), claims={"sub": "late"}, ip=IP)
    with pytest.raises(AuthenticationFailed):
        services.provider_sign_in(provider=provider_get("test"), claims={"sub": "joiner", "email": user.email, "email_verified": True}, ip=IP)
    mine = ProviderIdentity(user=user.id, provider="test", issuer=provider_get("test").issuer, subject="mine")
    ProviderIdentity._get_collection().insert_one(mine.to_mongo().to_dict())  # raw: there before the mark
    with pytest.raises(NotFound):
        services.identity_disconnect(user=user, identity_id=str(mine.id), actor=user, ip=IP)
    assert OutboxJob._get_collection().count_documents({"user": user.id, "payload.type": {"$in": ["identity.linked", "identity.unlinked"]}}) == 0
    assert AuditEvent.objects(action__in=["identity_linked", "identity_unlinked"]).count() == 0
    assert identity_events(receiver) == []


def test_an_identity_put_back_takes_its_event_and_audit_record_back(provider, monkeypatch, receiver):
    found = provider_get("test")
    user = services.provider_sign_in(provider=found, claims={"sub": "a", "email": "two@example.org", "email_verified": True}, ip=IP).user
    ProviderIdentity(user=user.id, provider="test", issuer=found.issuer, subject="b").save()
    first = ProviderIdentity.objects.get(subject="a")
    looks = iter([True, False])  # before the delete: another way in; after it: none
    monkeypatch.setattr(services, "_has_other_way_in", lambda **kwargs: next(looks))
    with pytest.raises(Conflict):
        services.identity_disconnect(user=user, identity_id=str(first.id), actor=user, ip=IP)
    assert ProviderIdentity.objects(subject="a").count() == 1
    assert AuditEvent.objects(action="identity_unlinked").count() == 0
    assert [p["type"] for p in identity_events(receiver)] == ["identity.linked"]


def test_an_account_that_was_never_made_leaves_no_job(provider, make_user, monkeypatch):
    """The email was taken between the lookup and the account's insert: 409, and the jobs written
    before the account (user.created, identity.linked) are gone with the identity."""
    real = services._identity_insert

    def insert_then_someone_registers(**kwargs):
        identity = real(**kwargs)
        make_user("quick", "late@example.org")
        return identity

    monkeypatch.setattr(services, "_identity_insert", insert_then_someone_registers)
    jobs_before = OutboxJob.objects.count()
    with pytest.raises(Conflict):
        services.provider_sign_in(provider=provider_get("test"), claims={"sub": "late", "email": "late@example.org", "email_verified": True}, ip=IP)
    assert OutboxJob.objects.count() == jobs_before + 1  # the registered user's own user.created only
    assert OutboxJob._get_collection().count_documents({"payload.type": "identity.linked"}) == 0


def test_jobs_whose_account_never_came_are_cancelled_not_delivered(provider, settings, receiver):
    """A crash between the jobs' insert and the account's: the fan-out waits for the user, then
    cancels after OUTBOX_CAUSE_GRACE_SECONDS; the receiver hears nothing."""
    from accounts.events.webhooks import event_job, identity_event_data

    ghost = ObjectId()
    identity = ProviderIdentity(id=ObjectId(), user=ghost, provider="test", issuer=provider.issuer, subject="ghost")
    job = event_job("identity.linked", user_id=ghost, data=identity_event_data(identity))
    OutboxJob._get_collection().insert_one(job)
    outbox_drain()
    assert OutboxJob.objects.get(id=job["_id"]).status != CANCELLED  # waiting for its user
    OutboxJob._get_collection().update_one({"_id": job["_id"]}, {"$set": {"created_at": now() - timedelta(seconds=settings.OUTBOX_CAUSE_GRACE_SECONDS + 1), "next_attempt_at": now()}})
    outbox_drain()
    assert OutboxJob.objects.get(id=job["_id"]).status == CANCELLED
    assert identity_events(receiver) == []


def test_a_first_sign_in_with_an_unvouched_email_writes_its_mail_with_the_events(api, provider, person, settings, receiver):
    settings.EMAIL_VERIFICATION = "optional"
    answer = api.post("/auth/providers/test/token", app_code(provider, person(email_verified=False)).body(), format="json").json()
    kinds = sorted((j["kind"], j["payload"].get("type") or j["payload"].get("template")) for j in OutboxJob._get_collection().find({"user": ObjectId(answer["user_id"])}))
    assert kinds == [("event", "identity.linked"), ("event", "user.created"), ("mail", "verify_email")]
