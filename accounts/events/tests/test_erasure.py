"""Erasure that reaches every recipient (issue 22, item 4): a chain delete by the API, the purge or
`delete_users` sends user.deleted (the id and the linked ids, nothing else) to every subscribed
endpoint, and the receipts say, per recipient, delivered, failing or given up."""
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.users.documents import User, now
from accounts.events.documents import OutboxJob, WebhookDelivery
from accounts.events.outbox import outbox_drain
from accounts.events.tests.receivers import Receiver
from accounts.users.linked_ids import linked_id_add
from accounts.user_data.services import user_export, users_chain_delete


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.OUTBOX_RETRY_DELAYS = [0, 0]


def register(client, receiver, events=("user.deleted",)):
    outbox_drain()  # what the fixtures set off goes to nobody
    r = client.post("/webhooks", {"url": receiver.url, "events": list(events)}, format="json")
    receiver.secret = r.json()["secret"]
    return r.json()["id"]


def test_a_chain_delete_of_a_user_with_two_linked_ids_reaches_two_receivers_and_the_receipts_say_so(user, admin, client_for):
    linked_id_add(user=user, linked_id="crm:42")
    linked_id_add(user=user, linked_id="billing:7")
    admin_client = client_for(admin)
    with Receiver() as crm, Receiver() as billing:
        ids = {register(admin_client, crm): crm.url, register(admin_client, billing): billing.url}
        r = client_for(user).delete(f"/users/delete_user/{user.id}?reason=gone")
        assert r.status_code == 200
        outbox_drain()
        for receiver in (crm, billing):
            assert receiver.forged == 0 and receiver.types() == ["user.deleted"]
            assert receiver.received[0]["data"] == {"user_id": str(user.id), "linked_ids": ["crm:42", "billing:7"]}
    deletion = admin_client.get(f"/deletions/{user.id}").json()
    assert deletion["user_id"] == str(user.id) and deletion["notified"] is True and deletion["counts"]["users"] == 1
    assert {(r["webhook_id"], r["url"], r["status"]) for r in deletion["receipts"]} == {(i, url, "delivered") for i, url in ids.items()}
    assert all(r["delivered_at"] for r in deletion["receipts"])
    # Nothing personal is kept to do this: the receipts and the event hold the bare id only.
    kept = str(list(WebhookDelivery._get_collection().find())) + str(list(OutboxJob._get_collection().find()))
    for personal in ("crm:42", "billing:7", user.email, user.username):
        assert personal not in kept


def test_receipts_show_failing_then_given_up(user, admin, client_for, settings):
    settings.OUTBOX_RETRY_DELAYS = [60]
    admin_client = client_for(admin)
    with Receiver(status=500) as down, Receiver() as up:
        register(admin_client, down)
        register(admin_client, up)
        users_chain_delete(user_ids=[user.id], actor_id=admin.id, reason="test")
        outbox_drain()
        statuses = {r["url"]: r["status"] for r in admin_client.get(f"/deletions/{user.id}").json()["receipts"]}
        assert statuses == {down.url: "failing", up.url: "delivered"}
        WebhookDelivery.objects(status="pending").update(set__next_attempt_at=WebhookDelivery.objects.first().created_at)
        outbox_drain()
    statuses = {r["url"]: r["status"] for r in admin_client.get(f"/deletions/{user.id}").json()["receipts"]}
    assert statuses == {down.url: "given_up", up.url: "delivered"}


def test_the_event_waits_until_the_user_is_really_gone_and_is_written_once(user, admin, client_for, settings):
    settings.OUTBOX_DEFER_SECONDS = 60
    events = OutboxJob._get_collection()
    with Receiver() as receiver:
        register(client_for(admin), receiver)
        from accounts.events.webhooks import user_deleted_events

        user_deleted_events(user_ids=[user.id])  # a chain delete that crashed right after its first step
        before = now()
        outbox_drain()
        assert receiver.received == []  # the user is still there: nothing is announced
        event = events.find_one({"subject_id": user.id, "payload.type": "user.deleted"})
        # Deferred, not failed: looked at again in OUTBOX_DEFER_SECONDS, not claimed again at once.
        assert event["status"] == "pending" and event["attempts"] == 0
        assert event["next_attempt_at"].replace(tzinfo=before.tzinfo) > before + timedelta(seconds=55)
        users_chain_delete(user_ids=[user.id], actor_id=None, reason="again")  # run again, to the end
        events.update_one({"_id": event["_id"]}, {"$set": {"next_attempt_at": now()}})  # the deferral's minute passes
        outbox_drain()
        assert receiver.types() == ["user.deleted"]
    assert events.count_documents({"subject_id": user.id, "payload.type": "user.deleted"}) == 1


def test_purge_and_delete_users_send_it_and_the_command_reports_receipts(make_user, admin, client_for, tmp_path):
    trashed, listed = make_user(), make_user()
    admin_client = client_for(admin)
    with Receiver() as receiver:
        register(admin_client, receiver)
        admin_client.delete(f"/users/{trashed.id}?reason=spam")
        assert admin_client.delete(f"/trash/{trashed.id}").status_code == 204
        out = StringIO()
        call_command("delete_users", "--ids", str(listed.id), "--yes", "--wait", "20", stdout=out)
        assert receiver.types() == ["user.deleted", "user.deleted"]
    assert f"user.deleted to {receiver.url}: 1 delivered" in out.getvalue()


def test_a_users_pending_events_go_with_them_but_user_deleted_stays(user, admin, client_for):
    with Receiver() as receiver:
        register(client_for(admin), receiver, events=["*"])
        client_for(user).patch(f"/users/{user.id}", {"username": "alice again"}, format="json")
        assert OutboxJob.objects(user=user.id).count() >= 1
        assert "outbox" in user_export(user=user)["collections"]
        users_chain_delete(user_ids=[user.id], actor_id=None, reason="test")
        assert OutboxJob.objects(user=user.id).count() == 0  # the update event, with the name, is gone
        outbox_drain()
        assert receiver.types() == ["user.deleted"]
    assert not User.objects(id=user.id).first()


def test_the_deletion_record_of_an_unknown_user_is_404(admin, client_for):
    assert client_for(admin).get("/deletions/" + "0" * 24).status_code == 404
    assert client_for(admin).get("/deletions/nonsense").status_code == 404
