"""The outbox (accounts/events/outbox.py): jobs claimed atomically with a lease, retried with
backoff, dead letters listed and replayed, several workers sharing the work, nothing lost when a
worker dies mid-job."""
import threading
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from accounts.users.documents import now
from accounts.events import outbox
from accounts.events.documents import CANCELLED, DELIVERED, FAILED, PENDING, OutboxJob
from accounts.events.mail_jobs import mail_enqueue


@pytest.fixture
def handled(monkeypatch):
    """Replace the mail handler: record each job id, or raise what `plan` says for it."""
    calls, plan = [], {}

    def handle(job):
        calls.append(job["_id"])
        action = plan.get(job["_id"])
        if isinstance(action, list) and action:
            raise action.pop(0)
        if isinstance(action, Exception):
            raise action

    monkeypatch.setitem(outbox._KIND_HANDLERS, "mail", handle)
    return calls, plan


@pytest.fixture
def someone(user):
    """A user whose own sign-up jobs (user.created) are out of the way."""
    OutboxJob.objects.delete()
    return user


def job(**fields):
    return OutboxJob._get_collection().find_one({"_id": mail_enqueue("verify_email", **fields)})


def test_a_claimed_job_is_held_by_one_worker_until_its_lease_expires(someone, settings):
    created = job(user_id=someone.id)
    first = outbox.job_claim(OutboxJob)
    assert first["_id"] == created["_id"] and first["lease_token"]
    assert outbox.job_claim(OutboxJob) is None  # held
    later = now() + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS + 1)
    second = outbox.job_claim(OutboxJob, at=later)  # the first worker died: taken up again
    assert second["_id"] == created["_id"] and second["lease_token"] != first["lease_token"]
    assert not outbox.job_finish(OutboxJob, first)  # the dead worker's word no longer counts
    assert outbox.job_finish(OutboxJob, second)
    assert OutboxJob.objects.get(id=created["_id"]).status == DELIVERED


def test_failures_back_off_then_become_dead_letters_that_can_be_replayed(someone, settings, handled, capsys):
    calls, plan = handled
    settings.OUTBOX_RETRY_DELAYS = [5, 60]
    created = job(user_id=someone.id)
    plan[created["_id"]] = outbox.DeliveryError("not sent: SMTPServerDisconnected")
    start = now()
    assert outbox.outbox_drain() == 1
    stored = OutboxJob.objects.get(id=created["_id"])
    assert stored.status == PENDING and stored.attempts == 1 and stored.last_error == "not sent: SMTPServerDisconnected"
    assert timedelta(seconds=4) < stored.next_attempt_at - start < timedelta(seconds=7)
    assert outbox.outbox_drain() == 0  # not due yet
    for expected_delay in (60, None):
        OutboxJob.objects(id=created["_id"]).update(set__next_attempt_at=now())
        outbox.outbox_drain()
    stored.reload()
    assert stored.status == FAILED and stored.attempts == 3 and len(calls) == 3
    call_command("outbox", "--failed")
    listed = capsys.readouterr().out
    assert str(created["_id"]) in listed and "mail verify_email" in listed and "1 dead letter" in listed
    del plan[created["_id"]]
    call_command("outbox", "--retry", str(created["_id"]), "0" * 24)
    assert "1 dead letter queued again" in capsys.readouterr().out
    assert outbox.outbox_drain() == 1 and OutboxJob.objects.get(id=created["_id"]).status == DELIVERED


def test_the_retry_schedule_reaches_past_a_day_with_the_third_attempt_early(settings):
    delays = [outbox.retry_delay(n) for n in range(1, 10)]
    assert delays[-1] is None
    assert delays[0] + delays[1] <= timedelta(seconds=90)  # the third attempt within a minute and a half
    assert sum(delays[:-1], timedelta()) >= timedelta(days=1)


def test_a_job_whose_cause_never_appears_waits_then_is_cancelled(settings):
    from bson import ObjectId

    from accounts.events.mail_jobs import mail_job

    # A sign-up writes its mail first (before_the_user: no owner to prove yet); this user never came.
    [written] = outbox.outbox_write([mail_job("verify_email", user_id=ObjectId())], before_the_user=True)
    created = OutboxJob._get_collection().find_one({"_id": written})
    assert outbox.outbox_drain() == 1
    stored = OutboxJob.objects.get(id=created["_id"])
    assert stored.status == PENDING and stored.attempts == 0 and stored.next_attempt_at > now()
    OutboxJob.objects(id=created["_id"]).update(set__next_attempt_at=now(), set__created_at=now() - timedelta(hours=1))
    outbox.outbox_drain()
    assert OutboxJob.objects.get(id=created["_id"]).status == CANCELLED


@pytest.mark.skipif(not django_settings.MONGODB_URI, reason="mongomock's find_one_and_update is not atomic across threads; MongoDB's is (CI's wire run)")
def test_several_workers_share_the_work_and_do_each_job_once(someone, handled):
    calls, _ = handled
    ids = {job(user_id=someone.id)["_id"] for _ in range(40)}
    start = threading.Barrier(4)

    def work():
        start.wait()
        while outbox.outbox_work_once(limit=1):
            pass

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(calls) == sorted(ids)  # every job once, none twice
    assert OutboxJob.objects(status=DELIVERED).count() == 40


def test_a_worker_thread_runs_until_stopped(someone, handled, settings):
    calls, _ = handled
    settings.OUTBOX_POLL_SECONDS = 0.05
    created = job(user_id=someone.id)
    worker = outbox.OutboxWorker()
    worker.start()
    try:
        for _ in range(200):
            if calls:
                break
            threading.Event().wait(0.05)
    finally:
        worker.stop()
        worker.join(timeout=5)
    assert calls == [created["_id"]] and not worker.is_alive()


def test_finished_jobs_expire_and_carry_no_lease():
    from accounts.events.documents import OutboxJob as Job

    ttl = [i for i in Job._get_collection().index_information().values() if i.get("expireAfterSeconds") == 0]
    assert ttl and ttl[0]["key"][0][0] == "expires_at"
