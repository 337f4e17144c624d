"""Webhooks (accounts/events/): endpoints registered by admins, lifecycle events delivered to real
HTTP receivers on loopback and verified with the `standardwebhooks` library, retries until a
receiver recovers, an endpoint that keeps failing disabled with its reason, SSRF refused."""
import pytest

from accounts.users.documents import User
from accounts.events.documents import WebhookDelivery, WebhookEndpoint
from accounts.events.outbox import outbox_drain
from accounts.events.tests.receivers import Receiver
from accounts.events.webhooks import EVENT_TYPES

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the receivers listen on 127.0.0.1
    settings.OUTBOX_RETRY_DELAYS = [0, 0, 0]


def register(client, receiver: Receiver, events=("*",)) -> dict:
    outbox_drain()  # what the fixtures set off (their users' user.created) goes to nobody
    r = client.post("/webhooks", {"url": receiver.url, "events": list(events), "description": "crm"}, format="json")
    assert r.status_code == 201, r.content
    receiver.secret = r.json()["secret"]
    return r.json()


def test_admins_register_endpoints_and_see_the_secret_once(admin, client_for):
    client = client_for(admin)
    with Receiver() as receiver:
        created = register(client, receiver, events=["user.created", "user.deleted"])
    assert created["secret"].startswith("whsec_") and created["enabled"] and created["events"] == ["user.created", "user.deleted"]
    listed = client.get("/webhooks").json()
    assert [w["id"] for w in listed] == [created["id"]] and "secret" not in listed[0]
    one = client.get(f"/webhooks/{created['id']}/").json()
    assert "secret" not in one and one["disabled_reason"] is None
    stored = WebhookEndpoint._get_collection().find_one()
    assert created["secret"] not in str(stored)  # encrypted at rest
    r = client.patch(f"/webhooks/{created['id']}", {"events": ["*"], "description": "all"}, format="json")
    assert r.status_code == 200 and r.json()["events"] == ["*"]
    assert client.delete(f"/webhooks/{created['id']}").status_code == 204
    assert client.get(f"/webhooks/{created['id']}").status_code == 404


@pytest.mark.parametrize("caller", [None, "user"])
def test_only_admins_touch_webhooks(caller, user, client_for):
    client = client_for(user if caller else None)
    expected = 403 if caller else 401
    assert client.get("/webhooks").status_code == expected
    assert client.post("/webhooks", {"url": "https://example.com", "events": ["*"]}, format="json").status_code == expected
    assert client.get("/deletions/" + str(user.id)).status_code == expected


@pytest.mark.parametrize("body", [{"url": "ftp://example.com/x", "events": ["*"]}, {"url": "https://example.com", "events": ["user.exploded"]}, {"url": "https://example.com", "events": []}, {"url": "https://u:p@example.com", "events": ["*"]}])
def test_bad_endpoints_are_400(admin, client_for, body):
    r = client_for(admin).post("/webhooks", body, format="json")
    assert r.status_code == 400 and set(r.json()) <= {"url", "events"}


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://localhost/x", "http://[::1]/", "http://10.1.2.3/", "http://192.168.0.10/", "http://169.254.169.254/latest/meta-data", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/"])
def test_private_and_loopback_urls_are_refused(admin, client_for, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    r = client_for(admin).post("/webhooks", {"url": url, "events": ["*"]}, format="json")
    assert r.status_code == 400 and "url" in r.json()


def test_a_public_address_is_accepted(admin, client_for, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    r = client_for(admin).post("/webhooks", {"url": "https://93.184.215.14/hooks", "events": ["*"]}, format="json")
    assert r.status_code == 201


def test_lifecycle_events_arrive_signed_and_carry_no_secret(admin, client_for, api, settings):
    with Receiver() as receiver:
        register(client_for(admin), receiver)
        r = api.post("/users/register", {"username": "eve", "email": "eve@example.com", "password": PASSWORD}, format="json")
        user = User.objects.get(id=r.json()["user_id"])
        login = api.post("/login", {"email": "eve@example.com", "password": PASSWORD}, format="json").json()
        client = client_for(user)
        client.patch(f"/users/{user.id}", {"username": "eve two"}, format="json")
        api.post("/auth/logout", {"refresh": login["refresh"]}, format="json")
        client_for(admin).delete(f"/users/{user.id}?reason=spam")
        client_for(admin).post(f"/trash/{user.id}/restore")
        outbox_drain()
        assert receiver.forged == 0
        assert receiver.types() == ["user.created", "user.updated", "session.ended", "user.trashed", "user.restored"]
        created = receiver.received[0]
        assert set(created) == {"type", "timestamp", "data"}
        assert created["data"]["user_id"] == str(user.id) and created["data"]["email"] == "eve@example.com"
        user.reload()
        everything = receiver.raw()
        for secret in (user.password, login["access"], login["refresh"], PASSWORD):
            assert secret not in everything
        assert len(set(receiver.ids)) == len(receiver.ids)  # one webhook-id per event


def test_a_receiver_that_fails_then_recovers_gets_every_event(admin, client_for, make_user, settings):
    settings.OUTBOX_RETRY_DELAYS = [0, 0, 0, 0, 0]
    with Receiver(fail_first=4) as receiver:
        webhook = register(client_for(admin), receiver, events=["user.created"])
        users = [make_user() for _ in range(3)]
        for _ in range(6):
            outbox_drain()
        assert sorted(p["data"]["user_id"] for p in receiver.received) == sorted(str(u.id) for u in users)
    log = client_for(admin).get(f"/webhooks/{webhook['id']}/deliveries").json()
    assert {d["status"] for d in log} == {"delivered"} and sum(d["attempts"] for d in log) == 7
    assert any(d["attempts"] > 1 and d["last_status_code"] == 200 for d in log)


def test_an_endpoint_that_keeps_failing_is_disabled_and_the_admin_sees_why(admin, client_for, make_user):
    client = client_for(admin)
    with Receiver(status=503) as receiver:
        webhook = register(client, receiver, events=["user.created"])
        make_user()
        for _ in range(5):
            outbox_drain()
    shown = client.get(f"/webhooks/{webhook['id']}").json()
    assert shown["enabled"] is False and "every attempt" in shown["disabled_reason"] and "HTTP 503" in shown["disabled_reason"]
    [delivery] = client.get(f"/webhooks/{webhook['id']}/deliveries").json()
    assert delivery["status"] == "failed" and delivery["attempts"] == 4 and delivery["last_status_code"] == 503
    # Re-enabled and replayed, the receiver (back now) gets it.
    with Receiver() as back:
        client.patch(f"/webhooks/{webhook['id']}", {"url": back.url, "enabled": True}, format="json")
        back.secret = receiver.secret
        from django.core.management import call_command

        call_command("outbox", "--retry", delivery["id"])
        outbox_drain()
        assert back.types() == ["user.created"]
    assert client.get(f"/webhooks/{webhook['id']}").json()["disabled_reason"] is None


def test_a_delivery_is_checked_again_against_private_addresses(admin, client_for, make_user, settings):
    with Receiver() as receiver:
        webhook = register(client_for(admin), receiver)
        settings.WEBHOOKS_ALLOW_PRIVATE = False  # e.g. its name now resolves to an inside address
        make_user()
        outbox_drain()
        assert receiver.attempts == 0
    [delivery] = client_for(admin).get(f"/webhooks/{webhook['id']}/deliveries").json()
    assert "private" in delivery["last_error"]


def test_the_catalogue_is_the_contracts():
    assert set(EVENT_TYPES) >= {"user.created", "user.updated", "user.email_verified", "user.trashed", "user.restored", "user.deleted", "session.ended", "mfa.enabled", "mfa.disabled"}


def test_unsubscribed_and_disabled_endpoints_get_nothing(admin, client_for, make_user):
    client = client_for(admin)
    with Receiver() as wanted, Receiver() as other, Receiver() as off:
        register(client, wanted, events=["user.created"])
        register(client, other, events=["user.deleted"])
        disabled = register(client, off)
        client.patch(f"/webhooks/{disabled['id']}", {"enabled": False}, format="json")
        make_user()
        outbox_drain()
        assert wanted.types() == ["user.created"] and other.received == [] and off.attempts == 0
    assert WebhookDelivery.objects.count() == 1
